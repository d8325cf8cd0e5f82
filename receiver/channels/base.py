"""The channel interface: render a stored notification and send it, saying whether to retry.

Modelled on Alertmanager's notifiers: `send` returns a `SendResult` whose `retry` says
whether the failure is worth retrying (timeouts, 5xx, 429) or permanent (other 4xx).
A channel never raises for a delivery failure; the outbox worker owns retries,
backoff, Retry-After and dead-lettering. Each channel type lives in its own module
under `receiver.channels` and registers itself with `@register`.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any, ClassVar

from receiver import channels
from receiver.model.notification import Notification

_REGISTRY: dict[str, type[Channel]] = {}


@dataclass(frozen=True)
class SendResult:
    """What happened when a channel tried to deliver."""

    ok: bool
    retry: bool = False
    error: str | None = None
    retry_after: float | None = None
    status: str | None = None
    response: str | None = None

    @classmethod
    def delivered(cls, status: str | None = None, response: str | None = None) -> SendResult:
        """A successful delivery."""
        return cls(ok=True, status=status, response=response)

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


class Channel:
    """Base class for channel types.

    Subclasses set `type` and `Config` (a dataclass validated from the channel's config
    section; secrets typed `Secret` accept `*_file` and are never logged) and implement
    `send`. `templates` renders the channel's message templates.
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

    async def start(self) -> None:
        """Open clients and sessions. Called once before the first send."""

    async def send(self, notification: Notification) -> SendResult:
        """Deliver one notification; never raises for a delivery failure."""
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
