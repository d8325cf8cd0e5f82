"""Discord: a webhook message with one embed coloured by severity, within every Discord limit.

Discord refuses a whole message that breaks any limit (2,000 content, 256 embed title,
4,096 embed description, 2,048 footer, 6,000 characters across embeds), so the message is
fitted by showing fewer alerts ("+N more") and clipping single fields at word boundaries.
A 429 carries `retry_after` (seconds) in the JSON body and a Retry-After header.

One message per incident: the first is posted with `?wait=true`, whose answer carries the
message id the outbox stores; later notifications edit it in place with
`PATCH /webhooks/{id}/{token}/messages/{message_id}`. A message Discord no longer has
(404, Unknown Message) is posted again.
"""

from __future__ import annotations

import json
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, ClassVar

import aiohttp

from receiver.channels.base import Channel, SendResult, register
from receiver.channels.budget import LIMITS, message_fitter
from receiver.channels.colours import colour
from receiver.channels.http_outcome import classify_status, read_answer
from receiver.channels.preview import json_preview
from receiver.channels.redact import describe_exception
from receiver.channels.session import SessionChannel
from receiver.model.notification import Notification
from receiver.templates.clip import clip
from receiver.templates.context import build_context
from servicekit.sections import Unavailable
from servicekit.values import Duration, Secret


@dataclass
class DiscordConfig:
    """`webhook_url` is `https://discord.com/api/webhooks/{id}/{token}` (a secret)."""

    webhook_url: Secret
    username: str | None = None
    avatar_url: str | None = None
    timeout: Duration = Duration(10)

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        # Each check on its own: one reading a key that failed to parse is skipped (that
        # key's problem is reported already) and the others still run.
        with suppress(Unavailable):
            if not self.webhook_url.startswith(("https://", "http://")):
                problems.append(("webhook_url", "expected an http(s) URL"))
        with suppress(Unavailable):
            if self.username is not None and not 1 <= len(self.username) <= 80:
                problems.append(("username", "expected 1 to 80 characters"))
        with suppress(Unavailable):
            if self.timeout <= 0:
                problems.append(("timeout", "expected a positive duration"))
        return problems


def embed_total(embed: dict[str, Any]) -> int:
    """Characters Discord counts towards the 6,000 embed total."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len((embed.get("footer") or {}).get("text", ""))
    total += len((embed.get("author") or {}).get("name", ""))
    for f in embed.get("fields") or []:
        total += len(f.get("name", "")) + len(f.get("value", ""))
    return total


def build_message(
    channel: Channel, notification: Notification, limit: int | None
) -> dict[str, Any]:
    """The webhook body for a notification showing at most `limit` alerts."""
    ctx = build_context(notification, channel.name, limit, channel.templates.grafana_url)
    templates = channel.templates
    kind = notification.kind

    def part(name: str) -> str:
        return str(templates.render("discord", kind, name, ctx, channel=channel.name))

    title = clip(part("title.txt"), LIMITS.discord_embed_title)
    footer = clip(part("footer.txt"), LIMITS.discord_footer)
    full = part("description.txt")
    room = LIMITS.discord_embed_total - len(title) - len(footer)
    description = clip(full, min(LIMITS.discord_embed_description, room))
    embed: dict[str, Any] = {
        "title": title,
        "description": description,
        "color": colour(notification),
        "footer": {"text": footer},
    }
    external_url = str(notification.incident.get("external_url") or "")
    if external_url.startswith(("http://", "https://")):
        embed["url"] = external_url
    message: dict[str, Any] = {
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
        "_unclipped": full == description,
    }
    content = clip(part("content.txt"), LIMITS.discord_content)
    if content:
        message["content"] = content
    return message


# As many alerts as fit without clipping the description; "+N more" for the rest.
fitted_message = message_fitter(
    build_message, lambda m: bool(m["_unclipped"]), private="_unclipped"
)


@register
class DiscordChannel(SessionChannel):
    """Executes a Discord webhook with aiohttp."""

    type: ClassVar[str] = "discord"
    Config = DiscordConfig
    config: DiscordConfig

    def message(self, notification: Notification) -> dict[str, Any]:
        """The exact JSON body that would be posted."""
        message = fitted_message(self, notification)
        if self.config.username:
            message["username"] = self.config.username
        if self.config.avatar_url:
            message["avatar_url"] = self.config.avatar_url
        return message

    def preview(self, notification: Notification) -> str:
        """What `send` would post, for `tocsin-receiver render`."""
        return json_preview(self.message(notification))

    @property
    def keeps_message(self) -> bool:
        """Webhook messages can be edited, so each incident keeps one."""
        return True

    async def deliver(self, notification: Notification) -> SendResult:
        message = self.message(notification)
        url = self.config.webhook_url.reveal()
        ref = notification.message_ref
        if ref:
            result = await self._execute("PATCH", f"{url.rstrip('/')}/messages/{ref}", message)
            if result.status != "404":
                return result
        return await self._execute("POST", url, message, params={"wait": "true"})

    async def _execute(
        self, method: str, url: str, message: dict[str, Any], params: dict[str, str] | None = None
    ) -> SendResult:
        """One webhook call; a delivered result carries the message id as its reference."""
        session = await self.session()
        if method == "PATCH":
            # An edit keeps the webhook's name and avatar; Discord refuses them here.
            message = {k: v for k, v in message.items() if k not in ("username", "avatar_url")}
        try:
            async with session.request(method, url, params=params, json=message) as resp:
                body = await read_answer(resp)
                result = classify_status(resp.status, body, resp.headers, "discord")
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return SendResult.retryable(f"discord: {describe_exception(exc, self.secrets())}")
        if resp.status == 429:
            # The JSON body's retry_after is more precise than the header (fractions).
            retry_after = _json_retry_after(body)
            if retry_after is not None:
                result = SendResult.retryable(
                    result.error or "discord rate limited", retry_after, result.status
                )
        if result.ok:
            message_id = _id(body)
            verb = "edited" if method == "PATCH" else "message"
            return SendResult.delivered(
                status=result.status,
                response=f"{verb} {message_id}",
                message_ref=message_id or None,
            )
        return result


def _json_retry_after(body: str) -> float | None:
    try:
        value = json.loads(body).get("retry_after")
    except (ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, int | float) else None


def _id(body: str) -> str:
    try:
        return str(json.loads(body).get("id", ""))
    except (ValueError, AttributeError):
        return ""
