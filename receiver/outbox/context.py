"""What outbox code needs from its caller: the configuration and the worker's hooks.

The pipeline's `Context` provides these; the outbox names only what it uses, so it
does not depend on the pipeline above it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from receiver.config import Config


class OutboxContext(Protocol):
    """`dispatch` hands freshly committed rows to the worker; `wake_outbox` asks it to
    look at the table (timers, folded rows, replays); `publish` tells event subscribers
    (deliveries, dead letters); `lease_owner` names the worker in outbox leases (several
    receivers on one database; None otherwise)."""

    @property
    def config(self) -> Config: ...

    @property
    def wake_outbox(self) -> Callable[[], None]: ...

    @property
    def dispatch(self) -> Callable[[list[dict[str, Any]]], None]: ...

    @property
    def publish(self) -> Callable[[str, dict[str, Any]], None]: ...

    @property
    def lease_owner(self) -> str | None: ...
