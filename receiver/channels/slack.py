"""Slack: incoming webhooks or a bot token (chat.postMessage), blocks in a coloured attachment.

The message is a header block with the title, then an attachment coloured by severity whose
section blocks hold the rendered text (one paragraph per alert) and a context block with
links. A bot channel posts one message per incident and edits it (`slack_thread`), with
Ack / Resolve buttons when the app's signing secret is configured (`slack_buttons`).
Rate limits (HTTP 429 + Retry-After) go back to the outbox as a retryable result
with `retry_after`, so the worker waits instead of the client sleeping in place.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, ClassVar

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from receiver.channels.base import Channel, SendResult, register
from receiver.channels.budget import LIMITS, message_fitter
from receiver.channels.colours import colour, hex_colour
from receiver.channels.http_outcome import classify_status
from receiver.channels.preview import json_preview
from receiver.channels.redact import describe_exception
from receiver.channels.slack_buttons import action_block
from receiver.channels.slack_thread import post, update_and_reply
from receiver.model.notification import Notification
from receiver.templates.clip import clip, split_paragraphs
from receiver.templates.context import build_context
from servicekit.sections import Unavailable
from servicekit.values import Duration, Secret

# slack_sdk logs each request's full URL at DEBUG, and a webhook URL is a secret.
_sdk_log = logging.getLogger("receiver.channels.slack.sdk")
_sdk_log.setLevel(logging.WARNING)


@dataclass
class SlackConfig:
    """Either `webhook_url`, or `token` with `channel`. With a token, `signing_secret`
    (the Slack app's, for its interactivity requests) adds Ack / Resolve buttons."""

    webhook_url: Secret | None = None
    token: Secret | None = None
    channel: str | None = None
    signing_secret: Secret | None = None
    base_url: str = "https://slack.com/api/"
    username: str | None = None
    icon_emoji: str | None = None
    timeout: Duration = Duration(10)

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        # Each check on its own: one reading a key that failed to parse is skipped (that
        # key's problem is reported already) and the others still run.
        with suppress(Unavailable):
            if (self.webhook_url is None) == (self.token is None):
                problems.append(
                    ("", "set exactly one of webhook_url (or webhook_url_file) or token")
                )
        with suppress(Unavailable):
            if self.token is not None and not self.channel:
                problems.append(("channel", "required with token (a channel ID or #name)"))
        with suppress(Unavailable):
            if self.signing_secret is not None and self.token is None:
                problems.append(("signing_secret", "buttons need a bot token (token)"))
        with suppress(Unavailable):
            if self.signing_secret is not None and not self.signing_secret.strip():
                problems.append(("signing_secret", "expected the Slack app's signing secret"))
        with suppress(Unavailable):
            if self.webhook_url is not None and not self.webhook_url.startswith(
                ("https://", "http://")
            ):
                problems.append(("webhook_url", "expected an http(s) URL"))
        with suppress(Unavailable):
            if not self.base_url.startswith(("https://", "http://")):
                problems.append(("base_url", "expected an http(s) URL"))
        with suppress(Unavailable):
            if self.timeout <= 0:
                problems.append(("timeout", "expected a positive duration"))
        return problems


def build_message(
    channel: Channel, notification: Notification, limit: int | None
) -> dict[str, Any]:
    """The Slack message for a notification showing at most `limit` alerts."""
    ctx = build_context(notification, channel.name, limit, channel.templates.grafana_url)
    templates = channel.templates
    kind = notification.kind
    title = templates.render("slack", kind, "title.txt", ctx, channel=channel.name)
    text = templates.render("slack", kind, "text.txt", ctx, channel=channel.name)
    footer = templates.render("slack", kind, "footer.txt", ctx, channel=channel.name)
    sections = split_paragraphs(text, LIMITS.slack_section_text)
    # One header block, the sections and one context block share Slack's 50-block limit.
    room = LIMITS.slack_blocks - 2
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": s}} for s in sections[:room]
    ]
    if footer:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": clip(footer, LIMITS.slack_section_text)}],
            }
        )
    header = clip(title, LIMITS.slack_header_text) or notification.kind
    return {
        "text": clip(title, LIMITS.slack_attachment_fallback),
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": header}}],
        "attachments": [
            {
                "color": hex_colour(colour(notification)),
                "fallback": clip(title, LIMITS.slack_attachment_fallback),
                "blocks": blocks,
            }
        ],
        "_sections": len(sections),
    }


def message_fits(message: dict[str, Any]) -> bool:
    """Whether every section made it into the block budget (nothing silently dropped)."""
    return int(message["_sections"]) <= LIMITS.slack_blocks - 2


# The message with as many alerts as fit; the rest are summarised as "+N more".
fitted_message = message_fitter(build_message, message_fits, private="_sections")


@register
class SlackChannel(Channel):
    """Posts to Slack through slack_sdk's async webhook or Web API client."""

    type: ClassVar[str] = "slack"
    Config = SlackConfig
    config: SlackConfig

    def __init__(self, name: str, config: SlackConfig, templates: Any) -> None:
        super().__init__(name, config, templates)
        self._webhook: AsyncWebhookClient | None = None
        self._web: AsyncWebClient | None = None

    async def start(self) -> None:
        timeout = max(1, round(self.config.timeout))
        if self.config.webhook_url is not None:
            self._webhook = AsyncWebhookClient(
                url=self.config.webhook_url.reveal(),
                timeout=timeout,
                retry_handlers=[],
                logger=_sdk_log,
            )
        else:
            assert self.config.token is not None
            base = self.config.base_url
            self._web = AsyncWebClient(
                token=self.config.token.reveal(),
                base_url=base if base.endswith("/") else base + "/",
                timeout=timeout,
                retry_handlers=[],
                logger=_sdk_log,
            )

    @property
    def keeps_message(self) -> bool:
        """A bot channel keeps one message per incident (incoming webhooks cannot edit)."""
        return self.config.token is not None

    def message(self, notification: Notification) -> dict[str, Any]:
        """The exact JSON body that would be posted (or a bot message rewritten to)."""
        message = fitted_message(self, notification)
        if self.config.token is not None:
            message = {"channel": self.config.channel, **message}
            buttons = action_block(notification) if self.config.signing_secret else None
            if buttons is not None:
                message["blocks"] = [*message["blocks"], buttons]
        if self.config.username:
            message["username"] = self.config.username
        if self.config.icon_emoji:
            message["icon_emoji"] = self.config.icon_emoji
        return message

    def preview(self, notification: Notification) -> str:
        """What `send` would post, for `tocsin-receiver render`."""
        return json_preview(self.message(notification))

    async def deliver(self, notification: Notification) -> SendResult:
        if self._webhook is None and self._web is None:
            await self.start()
        message = self.message(notification)
        try:
            if self._webhook is not None:
                return await self._send_webhook(message)
            assert self._web is not None
            channel = self.config.channel or ""
            if notification.message_ref is None:
                return await post(self._web, channel, message)
            # The thread reply is the notification itself, under the incident's message.
            reply = {k: v for k, v in message.items() if k != "blocks"}
            return await update_and_reply(
                self._web, channel, message, reply, notification.message_ref
            )
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return SendResult.retryable(f"slack: {describe_exception(exc, self.secrets())}")

    async def _send_webhook(self, message: dict[str, Any]) -> SendResult:
        assert self._webhook is not None
        response = await self._webhook.send_dict(message)
        return classify_status(response.status_code, response.body, response.headers, "slack")

    async def close(self) -> None:
        self._webhook = None
        self._web = None
