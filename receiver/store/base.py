"""The storage interface the pipeline is written against.

All writes go through `Store.write(fn)`: `fn(tx)` runs in the single writer, and
concurrent calls are committed together in one transaction (group commit), each in a
savepoint so one failing job does not sink the batch. The SQL in the pipeline is
portable (`?` placeholders, `INSERT ... ON CONFLICT`, no SQLite-only functions) so a
PostgreSQL backend only has to translate placeholders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

R = TypeVar("R")
Row = dict[str, Any]


class StoreError(Exception):
    """The store could not commit (disk full, I/O error, closed)."""


class Tx(Protocol):
    """A transaction handle: execute statements and read rows as dicts."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; returns the last inserted row id (or 0)."""
        ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def rowcount(self) -> int:
        """Rows changed by the last `execute`."""
        ...

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the event loop once this job's transaction has committed."""
        ...


class Store(Protocol):
    """Durable storage with a group-committing writer and concurrent readers."""

    # Why the last commit failed; None once one has succeeded (what readiness reports).
    commit_error: str | None

    async def write(self, fn: Callable[[Tx], R], durable: bool = True) -> R: ...

    async def read(self, fn: Callable[[Tx], R]) -> R: ...

    def read_sync(self, fn: Callable[[Tx], R]) -> R: ...

    @property
    def is_open(self) -> bool: ...

    async def close(self) -> None: ...
