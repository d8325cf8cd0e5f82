"""The channel interface: render a stored notification and send it, saying whether to retry.

Modelled on Alertmanager's notifiers: `send` returns a `SendResult` whose `retry` says
whether the failure is worth retrying (timeouts, 5xx, 429) or permanent (other 4xx).
A channel never raises for a delivery failure; the outbox worker owns retries,
backoff, Retry-After and dead-lettering. Each channel type lives in its own module
under `receiver.channels`, implements `deliver` and registers itself with `@register`.

What `send` returns has the channel's secrets taken out: a provider, or a proxy in front
of it, may echo the request (URL, headers, body) in its error page, and that answer is
stored with the attempt, shown to viewers and logged.
"""

from __future__ import annotations

import builtins
import functools
import re
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from receiver import channels
from receiver.model.notification import Notification
from servicekit.redaction import REDACTED, add_secrets, redact_text, secrets_in, secrets_pattern

_REGISTRY: dict[str, type[Channel]] = {}
# What an attempt keeps of a provider's error or answer: the start of an error page says
# what went wrong; the rest would only fill the attempts table.
SHOWN_CHARS = 600


@dataclass(frozen=True)
class SendResult:
    """What happened when a channel tried to deliver."""

    ok: bool
    retry: bool = False
    error: str | None = None
    retry_after: float | None = None
    status: str | None = None
    response: str | None = None
    # What identifies the message posted (a Slack ts, a Discord message id), stored for
    # the incident so its later notifications edit that message; None leaves the stored one.
    message_ref: str | None = None

    @classmethod
    def delivered(
        cls, status: str | None = None, response: str | None = None, message_ref: str | None = None
    ) -> SendResult:
        """A successful delivery."""
        return cls(ok=True, status=status, response=response, message_ref=message_ref)

    @classmethod
    def retryable(
        cls, error: str, retry_after: float | None = None, status: str | None = None
    ) -> SendResult:
        """A failure worth retrying (timeout, connection error, 5xx, 429)."""
        return cls(ok=False, retry=True, error=error, retry_after=retry_after, status=status)

    @classmethod
    def permanent(cls, error: str, status: str | None = None) -> SendResult:
        """A failure retrying will not fix (bad request, auth, gone)."""
        return cls(ok=False, retry=False, error=error, status=status)

    def scrubbed(self, secrets: re.Pattern[str] | None) -> SendResult:
        """This result with every match of `secrets` and every credential shape
        (`Bearer ...`, `password=...`) taken out of its error and response, each then
        clipped to SHOWN_CHARS (after, so no secret is cut in half and left partly shown)."""

        def clean(text: str | None) -> str | None:
            if text is None:
                return None
            text = redact_text(secrets.sub(REDACTED, text) if secrets is not None else text)
            return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"

        return replace(self, error=clean(self.error), response=clean(self.response))


class Channel:
    """Base class for channel types.

    Subclasses set `type` and `Config` (a dataclass validated from the channel's config
    section; secrets typed `Secret` accept `*_file` and are never logged) and implement
    `deliver`. `templates` renders the channel's message templates. A channel that sends
    something derived from its secrets (a basic-auth header, a URL's token) adds it in
    `secrets`.
    """

    type: ClassVar[str] = ""
    Config: ClassVar[builtins.type[Any]]
    # Channels that mirror tocsin's acknowledgements to the provider (PagerDuty) set this;
    # the core then queues an `acknowledged` notification for them when an incident is acked.
    wants_ack_events: ClassVar[bool] = False

    def __init__(self, name: str, config: Any, templates: Any) -> None:
        self.name = name
        self.config = config
        self.templates = templates
        # Every log line of the process is scrubbed of them too, not only this channel's
        # answers: a library's own error may quote the URL it was given.
        add_secrets(self.secrets())

    def secrets(self) -> list[str]:
        """The values this channel sends that must never come back out: every `Secret` in
        its config (each also in the forms `servicekit.redaction.secret_forms` gives)."""
        return secrets_in(self.config)

    @functools.cached_property
    def _secrets_pattern(self) -> re.Pattern[str] | None:
        return secrets_pattern(self.secrets())

    @property
    def keeps_message(self) -> bool:
        """Whether this channel edits one message per incident: the outbox then hands each
        notification the `message_ref` its first delivery returned, and stores new ones."""
        return False

    async def start(self) -> None:
        """Open clients and sessions. Called once before the first send."""

    async def send(self, notification: Notification) -> SendResult:
        """Deliver one notification; never raises for a delivery failure. The provider's
        answer comes back without this channel's secrets."""
        result = await self.deliver(notification)
        return result.scrubbed(self._secrets_pattern)

    async def deliver(self, notification: Notification) -> SendResult:
        """The channel type's own delivery (`send` scrubs what it returns)."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release clients and sessions."""


def register(cls: type[Channel]) -> type[Channel]:
    """Class decorator that makes a channel type known by its `type` name."""
    if not cls.type:
        raise ValueError(f"{cls.__qualname__} has no type")
    _REGISTRY[cls.type] = cls
    return cls


def channel_types() -> dict[str, type[Channel]]:
    """Every registered channel type, after importing the built-in channel modules."""
    channels.load_all()
    return dict(_REGISTRY)
