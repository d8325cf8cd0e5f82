"""Microsoft Teams through a Workflows (Power Automate) webhook posting an Adaptive Card.

The Office 365 connector cards are retired; a workflow's "When a Teams webhook request is
received" trigger takes `{"type": "message", "attachments": [<adaptive card>]}`. Teams
rejects messages over about 28 KB, so the card shows as many alerts as fit ("+N more").
"""

from __future__ import annotations

import json
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, ClassVar

import aiohttp

from receiver.channels.base import Channel, SendResult, register
from receiver.channels.budget import LIMITS, json_size, message_fitter
from receiver.channels.http_outcome import classify_status, read_answer
from receiver.channels.preview import json_preview
from receiver.channels.redact import describe_exception
from receiver.channels.session import SessionChannel
from receiver.model.notification import Notification
from receiver.templates.clip import split_paragraphs
from receiver.templates.context import build_context
from servicekit.sections import Unavailable
from servicekit.values import Duration, Secret

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
_PARAGRAPH_LIMIT = 4000
_COLOURS = {"critical": "Attention", "error": "Attention", "warning": "Warning", "info": "Accent"}


@dataclass
class TeamsConfig:
    """`webhook_url` is the workflow's HTTP trigger URL (its `sig` parameter is a secret)."""

    webhook_url: Secret
    timeout: Duration = Duration(10)

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        # Each check on its own: one reading a key that failed to parse is skipped (that
        # key's problem is reported already) and the others still run.
        with suppress(Unavailable):
            if not self.webhook_url.startswith(("https://", "http://")):
                problems.append(("webhook_url", "expected an http(s) URL"))
        with suppress(Unavailable):
            if self.timeout <= 0:
                problems.append(("timeout", "expected a positive duration"))
        return problems


def _colour(notification: Notification) -> str:
    if notification.kind == "resolved":
        return "Good"
    if notification.kind == "test":
        return "Default"
    return _COLOURS.get(str(notification.incident.get("severity") or ""), "Default")


def _actions(ctx: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    links = [
        ("Runbook", ctx["runbook_url"]),
        ("Dashboard", ctx["dashboard_url"]),
        ("Silence", ctx["silence_url"] if kind != "resolved" else ""),
        ("Alertmanager", ctx["external_url"]),
    ]
    return [
        {"type": "Action.OpenUrl", "title": title, "url": url}
        for title, url in links
        if str(url).startswith(("http://", "https://"))
    ]


def build_message(
    channel: Channel, notification: Notification, limit: int | None
) -> dict[str, Any]:
    """The workflow request body for a notification showing at most `limit` alerts."""
    ctx = build_context(notification, channel.name, limit, channel.templates.grafana_url)
    kind = notification.kind

    def part(name: str) -> str:
        return str(channel.templates.render("teams", kind, name, ctx, channel=channel.name))

    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": part("title.txt"),
            "weight": "Bolder",
            "size": "Medium",
            "color": _colour(notification),
            "wrap": True,
        }
    ]
    body.extend(
        {"type": "TextBlock", "text": p, "wrap": True}
        for p in split_paragraphs(part("text.txt"), _PARAGRAPH_LIMIT)
    )
    body.append(
        {"type": "TextBlock", "text": part("footer.txt"), "isSubtle": True, "size": "Small"}
    )
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": CARD_CONTENT_TYPE,
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "msteams": {"width": "Full"},
                    "body": body,
                    "actions": _actions(ctx, kind),
                },
            }
        ],
    }


def fits(message: dict[str, Any]) -> bool:
    """Whether the serialised message is within Teams' size limit."""
    return json_size(message) <= LIMITS.teams_card_bytes


_fit_alerts = message_fitter(build_message, fits)


def fitted_message(channel: Channel, notification: Notification) -> dict[str, Any]:
    """As many alerts as fit in 28 KB; paragraphs dropped from the end as a last resort."""
    message = _fit_alerts(channel, notification)
    body: list[dict[str, Any]] = message["attachments"][0]["content"]["body"]
    # Reached only when even a single alert is too big. The first block (the title:
    # what fired, how severe) and the last (the footer: incident id and correlation id, to
    # find it in tocsin) are what a reader needs to act, so text paragraphs go first.
    while not fits(message) and len(body) > 2:
        del body[-2]
    return message


@register
class TeamsChannel(SessionChannel):
    """Posts an Adaptive Card to a Teams workflow webhook with aiohttp."""

    type: ClassVar[str] = "teams"
    Config = TeamsConfig
    config: TeamsConfig

    def preview(self, notification: Notification) -> str:
        """What `send` would post, for `tocsin-receiver render`."""
        return json_preview(fitted_message(self, notification))

    async def deliver(self, notification: Notification) -> SendResult:
        session = await self.session()
        message = fitted_message(self, notification)
        try:
            # Sent exactly as measured: compact UTF-8, so the size check holds on the wire.
            body_bytes = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
            async with session.post(
                self.config.webhook_url.reveal(),
                data=body_bytes,
                headers={"Content-Type": "application/json; charset=utf-8"},
            ) as resp:
                body = await read_answer(resp)
                return classify_status(resp.status, body, resp.headers, "teams")
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return SendResult.retryable(f"teams: {describe_exception(exc, self.secrets())}")
