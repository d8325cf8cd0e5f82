"""Jinja filters the message templates use (escaping per target markup, word-safe clipping)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from receiver.templates.clip import clip


def slack_escape(value: Any) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_escape(value: Any) -> str:
    """Escape Markdown emphasis and link syntax (Discord, Teams)."""
    out = str(value)
    for ch in ("\\", "*", "_", "~", "`", "|", "[", "]", ">"):
        out = out.replace(ch, "\\" + ch)
    return out


def label_pairs(labels: Mapping[str, Any], skip: tuple[str, ...] = ()) -> str:
    """`k=v, k=v` sorted by key, leaving out `skip`."""
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k not in skip)


def clip_filter(value: Any, limit: int, marker: str = "…") -> str:
    """Shorten to at most `limit` characters at a word boundary."""
    return clip(str(value), limit, marker)


FILTERS: dict[str, Callable[..., Any]] = {
    "slack_escape": slack_escape,
    "markdown_escape": markdown_escape,
    "label_pairs": label_pairs,
    "clip": clip_filter,
}
