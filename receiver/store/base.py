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


class SyncError(StoreError):
    """The job committed, but its commit could not be made durable (the WAL sync
    failed): readers see its writes, its caller must not report them as stored."""


class Conflict(StoreError):
    """Another receiver on the same database made a conflicting change first (it opened
    the incident this job wanted to open): the job fails alone and is retried, as any
    StoreError, and then finds the other's row."""


class Tx(Protocol):
    """A transaction handle: execute statements and read rows as dicts."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; returns the last inserted row id (or 0)."""
        ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run a statement once per row of parameters."""
        ...

    def rowcount(self) -> int:
        """Rows changed by the last `execute`."""
        ...

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The query's first row, or None."""
        ...

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of the query."""
        ...

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the event loop once this job's transaction has committed."""
        ...


class Store(Protocol):
    """Durable storage with a group-committing writer and concurrent readers."""

    @property
    def commit_error(self) -> str | None:
        """Why the last commit (or webhook intake) failed; None once one has succeeded
        (what readiness reports)."""
        ...

    async def probe(self) -> None:
        """A durable trial commit of everything the store writes, so readiness notices a
        recovered disk while nothing else is written; StoreError while it fails."""
        ...

    @property
    def writers(self) -> int:
        """How many processing lanes (1..writers) may commit side by side, besides lane 0;
        1 where the backend has a single writer (SQLite), which runs every lane's jobs."""
        ...

    async def write(
        self, fn: Callable[[Tx], R], durable: bool = True, threaded: bool = False, lane: int = 0
    ) -> R:
        """Run `fn(tx)` in writer lane `lane`; returns its result once committed, raises
        StoreError when the commit fails. Jobs of one lane commit in order. `durable=False`
        marks bookkeeping whose loss in a power cut costs little, which may commit without
        a sync of its own; `threaded=True` marks a long job (a large webhook) to run off
        the event loop."""
        ...

    async def ingest(self, body: str, correlation_id: str, now: float) -> int:
        """Durably store a raw webhook (the inbox); returns its id. Never waits behind
        `write` jobs: processing and outbox commits cannot delay an answer."""
        ...

    async def read(self, fn: Callable[[Tx], R]) -> R:
        """Run `fn(tx)` in a read transaction off the event loop (committed data only)."""
        ...

    def read_sync(self, fn: Callable[[Tx], R]) -> R:
        """`read`, blocking the calling thread (for scrape-time collectors)."""
        ...

    @property
    def shared(self) -> bool:
        """Whether other receivers may use the same database at once (PostgreSQL): the
        outbox then claims rows with leases before sending them."""
        ...

    @property
    def is_open(self) -> bool:
        """Whether the store takes work (not closed, writer not stopped)."""
        ...

    async def close(self) -> None:
        """Finish queued writes, then close."""
        ...
