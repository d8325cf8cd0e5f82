"""What the in-transaction pipeline needs: config, router and post-commit hooks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from receiver.config import Config
from receiver.pipeline.router import Router


def _noop(*_: Any) -> None:
    return None


@dataclass
class Context:
    """Shared by every write job; hooks run on the event loop after commit.

    `dispatch` hands freshly committed outbox rows straight to the worker (no re-read);
    `wake_outbox` asks it to look at the table (timers, folded rows, replays).
    `lease_owner` is the worker's name in outbox leases when several receivers share
    the database (None on SQLite).
    """

    config: Config
    router: Router
    wake_outbox: Callable[[], None] = _noop
    dispatch: Callable[[list[dict[str, Any]]], None] = _noop
    publish: Callable[[str, dict[str, Any]], None] = _noop
    lease_owner: str | None = None

    @property
    def shared(self) -> bool:
        """Whether writers other than this receiver's single one may commit side by side:
        the store is shared exactly when the outbox leases rows."""
        return self.lease_owner is not None

    @classmethod
    def from_config(cls, config: Config) -> Context:
        return cls(config, Router.from_config(config))
