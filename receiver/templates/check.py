"""check-config for templates: render every configured channel's templates strictly.

Every part of every kind is rendered against a sample notification with StrictUndefined,
so a typo in a variable name or a filter is reported before the first real alert.
"""

from __future__ import annotations

from pathlib import Path

from receiver.config import Config
from receiver.model.notification import NotificationKind
from receiver.templates import TemplateError, TemplateRenderer
from receiver.templates.context import build_context
from receiver.templates.sample import sample_notification
from servicekit.problems import Problem

KINDS: tuple[NotificationKind, ...] = (
    "firing",
    "resolved",
    "escalation",
    "repeat",
    "acknowledged",
    "digest",
    "test",
)

# The template parts each channel type renders.
TEMPLATE_PARTS: dict[str, tuple[str, ...]] = {
    "email": ("subject.txt", "body.txt", "body.html"),
    "slack": ("title.txt", "text.txt", "footer.txt"),
    "discord": ("title.txt", "content.txt", "description.txt", "footer.txt"),
    "teams": ("title.txt", "text.txt", "footer.txt"),
    "twilio": ("body.txt",),
    "pagerduty": ("summary.txt",),
}
# Kinds a channel type never renders under their own name: PagerDuty sends each entry of
# a digest as its own `firing` event, so a `pagerduty/digest.*` template is never used.
UNRENDERED_KINDS: dict[str, tuple[str, ...]] = {"pagerduty": ("digest",)}


def rendered_kinds(channel_type: str) -> tuple[NotificationKind, ...]:
    """The kinds whose templates channel type `channel_type` renders."""
    return tuple(k for k in KINDS if k not in UNRENDERED_KINDS.get(channel_type, ()))


def known_name(name: str) -> bool:
    """Whether a path under the template directory is one tocsin looks up (or a partial)."""
    parts = Path(name).parts
    if not parts or parts[0] == "common" or Path(name).name.startswith("_"):
        return True
    if len(parts) != 2 or parts[0] not in TEMPLATE_PARTS:
        return False
    kind, _, part = parts[1].partition(".")
    return kind in (*rendered_kinds(parts[0]), "default") and part in TEMPLATE_PARTS[parts[0]]


def check_templates(config: Config) -> list[Problem]:
    """Every template problem for the configured channels, as check-config problems."""
    problems: list[Problem] = []
    directory = config.templates_dir
    if directory is not None:
        if not directory.is_dir():
            return [Problem(config.source, "templates_dir", f"not a directory: {directory}")]
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            name = path.relative_to(directory).as_posix()
            if not known_name(name):
                problems.append(
                    Problem(
                        config.source,
                        "templates_dir",
                        f"{name} is not a template tocsin uses "
                        "(expected <type>/<kind or default>.<part>, e.g. slack/firing.text.txt)",
                    )
                )
    renderer = TemplateRenderer(directory)
    for name, channel in config.channels.items():
        parts = TEMPLATE_PARTS.get(channel.type, ())
        for kind in rendered_kinds(channel.type):
            if not parts:
                break
            ctx = build_context(sample_notification(kind, name), name)
            for part in parts:
                try:
                    renderer.render_strict(channel.type, kind, part, ctx)
                except TemplateError as exc:
                    problems.append(
                        Problem(config.source, f"channels.{name}", f"template {exc} (kind {kind})")
                    )
    return _unique(problems)


def _unique(problems: list[Problem]) -> list[Problem]:
    # The same broken default template fails for every kind; say so once.
    seen: set[tuple[str, str]] = set()
    out: list[Problem] = []
    for p in problems:
        marker = (p.key, p.message.rsplit(" (kind ", 1)[0])
        if marker not in seen:
            seen.add(marker)
            out.append(p)
    return out
