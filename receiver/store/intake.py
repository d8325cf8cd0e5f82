"""The intake: raw webhooks, durably appended to a database file of their own.

Why a file of its own: SQLite has one writer per database file, so an answer whose
INSERT shares the file with processing waits for whatever processing or outbox
transaction holds the write lock, and for the syncs queued with them. The intake file
is written by nobody else: a webhook's answer waits only for its own INSERT and the
fdatasync of the WAL holding that commit (on a thread, so the event loop goes on
serving while the disk works). Appends that arrive meanwhile share the next
commit (group commit).

Processing writes the main database without a sync of its own: it can be re-derived
from the intake. A webhook is processed when the main database's `webhooks` table has
its id; every intake row above the highest such id is waiting (processing follows id
order). Rows the main database has processed are deleted from the intake once a sync
of the main database's WAL has made their processing durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import structlog

from receiver.store.base import StoreError, SyncError
from receiver.store.walsync import WalSync

log = structlog.get_logger("receiver.store")
_SCHEMA = """CREATE TABLE IF NOT EXISTS intake (
    id INTEGER PRIMARY KEY,
    received_at REAL NOT NULL,
    correlation_id TEXT NOT NULL,
    body TEXT NOT NULL
)"""
# How often processed rows are deleted (each time after one sync of the main WAL).
PRUNE_EVERY = 5.0


def intake_path(database: Path) -> Path:
    """The intake file beside the main database."""
    return database.with_name(database.name + "-intake")


@dataclass(slots=True)
class _Append:
    webhook_id: int
    received_at: float
    correlation_id: str
    body: str
    future: asyncio.Future[int]


class Intake:
    """Appends raw webhooks to the intake file, grouped, on one thread at a time."""

    def __init__(self, database: Path, synchronous: str, processed_through: int) -> None:
        self.path = intake_path(database)
        self.database = database
        self._conn = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=30
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        # Commits as NORMAL, then fdatasyncs the WAL itself (as the main writer does):
        # the same guarantee as FULL, whose fsync also flushes the file's times and so
        # commits a filesystem journal transaction on every webhook.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(_SCHEMA)
        self._durable = synchronous in ("FULL", "EXTRA")
        self._own_wal = WalSync(Path(f"{self.path}-wal"), self.path)
        row = self._conn.execute("SELECT MAX(id) FROM intake").fetchone()
        # Ids continue above both files' highest, so an id never names two webhooks
        # (the main database may be newer than the intake, after a restore).
        self._next_id = max(int(row[0] or 0), processed_through) + 1
        self._waiting: list[_Append] = []
        self._running: asyncio.Task[None] | None = None
        self._last_prune = time.monotonic()
        self._main_wal = WalSync(Path(f"{database}-wal"))

    async def append(self, body: str, correlation_id: str, now: float) -> int:
        """Store one raw webhook; returns its id once the commit holding it is synced."""
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Append(self._next_id, now, correlation_id, body, fut))
        self._next_id += 1
        if self._running is None:
            self._running = asyncio.get_running_loop().create_task(self._commit_all())
        return await fut

    async def _commit_all(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            prune = time.monotonic() - self._last_prune > PRUNE_EVERY
            if prune:
                self._last_prune = time.monotonic()
            try:
                await asyncio.to_thread(self._commit, group, prune)
            except Exception as exc:
                # Whatever failed, every waiting answer must hear of it (503), not hang.
                log.error("intake_commit_failed", error=str(exc), webhooks=len(group))
                err = StoreError(f"could not store the webhook: {exc}")
                for a in group:
                    if not a.future.done():
                        a.future.set_exception(err)
                continue
            for a in group:
                if not a.future.done():
                    a.future.set_result(a.webhook_id)
        self._running = None

    def _commit(self, group: list[_Append], prune: bool) -> None:
        conn = self._conn
        if prune:
            self._prune()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT INTO intake (id, received_at, correlation_id, body) VALUES (?, ?, ?, ?)",
                [(a.webhook_id, a.received_at, a.correlation_id, a.body) for a in group],
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if self._durable:
            try:
                self._own_wal.sync()
            except OSError as exc:
                # Committed but not durable, so the senders hear 503 and retry: take the
                # rows back, or they would be processed (and counted) as if stored.
                # Best effort: if this fails too, a replay merely dedups the retry.
                with contextlib.suppress(sqlite3.Error):
                    conn.executemany(
                        "DELETE FROM intake WHERE id = ?", [(a.webhook_id,) for a in group]
                    )
                raise SyncError(f"could not sync the intake: {exc}") from exc

    async def probe(self) -> None:
        """A synced trial commit of the intake file (readiness, after a failure)."""
        try:
            await asyncio.to_thread(self._probe)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"could not store webhooks: {exc}") from exc

    def _probe(self) -> None:
        self._conn.execute("CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, at REAL)")
        self._conn.execute("INSERT OR REPLACE INTO probe (id, at) VALUES (1, ?)", (time.time(),))
        if self._durable:
            self._own_wal.sync()

    def _prune(self) -> None:
        """Delete the rows whose processing the main database holds durably."""
        main = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=30)
        try:
            row = main.execute("SELECT MAX(id) FROM webhooks").fetchone()
        finally:
            main.close()
        through = int(row[0] or 0)
        if self._durable and os.path.exists(self._main_wal.path):
            # Read first, then sync: every commit that processed those rows came before.
            self._main_wal.sync()
        self._conn.execute("DELETE FROM intake WHERE id <= ?", (through,))

    async def close(self) -> None:
        """Wait for appends in progress, delete what is durably processed, close."""
        while self._running is not None:
            await asyncio.shield(self._running)
        try:
            await asyncio.to_thread(self._prune)
        except (sqlite3.Error, OSError) as exc:
            log.warning("intake_prune_failed", error=str(exc))
        self._main_wal.close()
        self._own_wal.close()
        self._conn.close()
