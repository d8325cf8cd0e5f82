"""SQLite backend: WAL journal, one writer doing group commit, pooled readers.

Durability: with `synchronous=FULL` (the default here) a job is answered only once the
WAL holding its commit has been fdatasync'd, so a committed webhook survives power loss.
SQLite's own FULL would sync inside COMMIT; instead the writer commits as NORMAL and
syncs the WAL itself (`WalSync`), which is the same guarantee (every frame of the commit
is on disk before anyone is told) but lets the writer go on with the next batch while
the sync runs in a thread. Syncs are grouped too: batches committed while one sync is
in flight share the next one. Readers and after-commit hooks see a commit as soon as it
is made, a fraction of a millisecond before it is synced; only answers wait for the sync.
`synchronous=NORMAL` skips the sync (safe against a process crash, may lose the last
commits on power loss). Raw webhooks are not written here but to the intake file
(`ingest`, `receiver.store.intake`), so no job of this writer can delay their answers.

Group commit: the writer is a task on the event loop. It takes every queued job, runs
each (in a savepoint when several share the batch) and then commits once. Jobs queued
meanwhile form the next batch. The jobs themselves are short CPU-bound SQL; running them
on the loop avoids handing the GIL back and forth with a writer thread after every
statement, which under load cost more than the statements. Checkpoints (copying the WAL
into the database file, with fsyncs) run on a thread of their own, off the loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import structlog

from receiver.store.base import Row, StoreError, Tx
from receiver.store.checkpoint import Checkpointer
from receiver.store.connection import connect, migrate
from receiver.store.intake import Intake, intake_path
from receiver.store.lock import DatabaseLock
from receiver.store.settle import run_hooks, settle
from receiver.store.walsync import SyncGroup, WalSync
from receiver.store.writequeue import batches

R = TypeVar("R")
log = structlog.get_logger("receiver.store")
_MAX_BATCH = 512


class _Tx:
    """A `Tx` over one sqlite3 connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._rowcount = 0
        self.callbacks: list[Callable[[], None]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cur = self.conn.execute(sql, params)
        self._rowcount = cur.rowcount
        return cur.lastrowid or 0

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def rowcount(self) -> int:
        return self._rowcount

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        cur = self.conn.execute(sql, params)
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cur.description], row, strict=True))

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cur = self.conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def after_commit(self, fn: Callable[[], None]) -> None:
        self.callbacks.append(fn)


class _Job:
    __slots__ = ("durable", "fn", "future", "threaded")

    def __init__(
        self,
        fn: Callable[[_Tx], Any],
        future: asyncio.Future[Any],
        durable: bool = True,
        threaded: bool = False,
    ) -> None:
        self.fn = fn
        self.future = future
        self.durable = durable
        self.threaded = threaded


Outcome = tuple[_Job, Any, BaseException | None, list[Callable[[], None]]]


class SqliteStore:
    """The embedded store: `receiver.db` under the storage path, locked while open
    (StoreLocked when another process holds it)."""

    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        self.path = path
        self.synchronous = synchronous
        path.parent.mkdir(parents=True, exist_ok=True)
        explicit = synchronous in ("FULL", "EXTRA")
        # Held until close, so `restore` cannot swap the file under a running receiver.
        self._lock = DatabaseLock(path).acquire()
        try:
            self._writer = connect(path, "NORMAL" if explicit else synchronous)
            migrate(self._writer)
            self._writer.execute("PRAGMA wal_autocheckpoint=0")
            through = self._writer.execute("SELECT MAX(id) FROM webhooks").fetchone()[0]
            self._intake = Intake(path, "FULL" if explicit else synchronous, int(through or 0))
        except BaseException:
            self._lock.release()
            raise
        self._syncs = SyncGroup(WalSync(Path(f"{path}-wal"), path)) if explicit else None
        self._checkpointer = Checkpointer(path)
        self._queue: asyncio.Queue[_Job | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._open = True
        self.batches = 0
        # Why the last commit failed (or, with syncs, could not be synced); None once one
        # has succeeded (readiness).
        self._commit_error: str | None = None
        # Why the last webhook could not be stored in the intake; None once one was.
        self._intake_error: str | None = None
        # Whether commit_error is a failed sync: only a sync clears that one, since
        # commits without a sync of their own go on succeeding meanwhile.
        self._sync_failed = False

    @property
    def shared(self) -> bool:
        """Never: the database lock keeps every other receiver out of the file."""
        return False

    @property
    def is_open(self) -> bool:
        """Open and its writer task (once started) still running."""
        return self._open and (self._task is None or not self._task.done())

    def _ensure_writer(self) -> asyncio.Queue[_Job | None]:
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="store-writer")
        return self._queue

    @property
    def writers(self) -> int:
        """One: SQLite has a single writer, which runs the jobs of every lane in order."""
        return 1

    async def write(
        self, fn: Callable[[Any], R], durable: bool = True, threaded: bool = False, lane: int = 0
    ) -> R:
        """Run `fn(tx)` in the writer (whatever the `lane`); returns once its transaction
        has committed.

        `durable=False` (delivery bookkeeping, whose loss costs at most a repeat) lets a
        batch made only of such jobs commit without fsync; the next durable commit's
        fsync of the WAL persists it too, since WAL frames are appended in order.
        `threaded=True` (long jobs: a 50k-alert webhook) runs the batch holding it on a
        thread, so the loop keeps serving; the writer still runs one batch at a time.
        """
        if not self._open:
            raise StoreError("store is closed")
        fut: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._ensure_writer().put_nowait(_Job(fn, fut, durable, threaded))
        return await fut

    async def ingest(self, body: str, correlation_id: str, now: float) -> int:
        """Store a raw webhook in the intake file (`receiver.store.intake`); returns its
        id once durable. Never waits for the writer: processing cannot delay it."""
        if not self._open:
            raise StoreError("store is closed")
        try:
            webhook_id = await self._intake.append(body, correlation_id, now)
        except StoreError as exc:
            self._intake_error = str(exc)
            raise
        self._intake_error = None
        return webhook_id

    @property
    def commit_error(self) -> str | None:
        """Why the last commit, or the last webhook's intake, failed (readiness)."""
        return self._commit_error or self._intake_error

    async def probe(self) -> None:
        """Trial commits of the main database and of the intake, each synced."""
        await self.write(_touch)
        try:
            await self._intake.probe()
        except StoreError as exc:
            self._intake_error = str(exc)
            raise
        self._intake_error = None

    async def read(self, fn: Callable[[Any], R]) -> R:
        """Run `fn(tx)` on a reader connection in a thread (sees committed data only)."""
        return await asyncio.to_thread(self.read_sync, fn)

    def read_sync(self, fn: Callable[[Any], R]) -> R:
        """`read` on the calling thread, with that thread's own reader connection;
        StoreError when the database cannot be read."""
        try:
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = connect(self.path, self.synchronous)
                # Readers see the intake as `intake.intake` (the inbox and its gauges).
                conn.execute("ATTACH DATABASE ? AS intake", (str(intake_path(self.path)),))
                self._local.conn = conn
                with self._readers_lock:
                    self._readers.append(conn)
            conn.execute("BEGIN")
            try:
                return fn(_Tx(conn))
            finally:
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            # As StoreError, so the loops that read (outbox, scheduler, retention) log it
            # and try again instead of ending for good on a raw sqlite3 exception.
            raise StoreError(f"read failed: {exc}") from exc

    async def close(self) -> None:
        """Finish queued writes, then close every connection."""
        if not self._open:
            return
        self._open = False
        if self._queue is not None and self._task is not None:
            self._queue.put_nowait(None)
            await self._task
        if self._syncs is not None:
            await self._syncs.drain()
        await self._intake.close()
        self._close_connections()

    def _close_connections(self) -> None:
        self._checkpointer.close()
        self._writer.close()
        if self._syncs is not None:
            self._syncs.wal.close()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        self._lock.release()

    async def _run(self) -> None:
        assert self._queue is not None
        async for batch in batches(self._queue, _MAX_BATCH):
            await self._commit_batch(self._writer, batch)

    @staticmethod
    def _run_alone(conn: sqlite3.Connection, job: _Job) -> Outcome:
        # A lone job needs no savepoint: on failure the whole transaction rolls back.
        tx = _Tx(conn)
        try:
            return (job, job.fn(tx), None, tx.callbacks)
        except Exception as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return (job, None, exc, [])

    @staticmethod
    def _run_in_savepoint(conn: sqlite3.Connection, job: _Job) -> Outcome:
        tx = _Tx(conn)
        conn.execute("SAVEPOINT job")
        try:
            result = job.fn(tx)
            conn.execute("RELEASE job")
            return (job, result, None, tx.callbacks)
        except Exception as exc:
            conn.execute("ROLLBACK TO job")
            conn.execute("RELEASE job")
            return (job, None, exc, [])

    @classmethod
    def _run_jobs(cls, conn: sqlite3.Connection, batch: list[_Job]) -> list[Outcome]:
        if len(batch) == 1:
            return [cls._run_alone(conn, batch[0])]
        return [cls._run_in_savepoint(conn, job) for job in batch]

    async def _commit_batch(self, conn: sqlite3.Connection, batch: list[_Job]) -> None:
        """Run and commit one batch; its jobs are answered after the WAL sync if durable.

        Not waiting for the sync here lets the next batch (typically processing of
        webhooks already answered) run while the disk works.
        """
        outcomes: list[Outcome] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            if any(job.threaded for job in batch):
                outcomes = await asyncio.to_thread(self._run_jobs, conn, batch)
            else:
                outcomes = self._run_jobs(conn, batch)
            if conn.in_transaction:
                conn.execute("COMMIT")
                if not self._sync_failed:
                    self._commit_error = None
            self.batches += 1
        except sqlite3.Error as exc:
            log.error("store_commit_failed", error=str(exc), jobs=len(batch))
            self._commit_error = str(exc)
            self._sync_failed = False
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error as again:
                    log.error("store_rollback_failed", error=str(again))
            err = StoreError(f"could not commit: {exc}")
            outcomes = [(job, None, err, []) for job in batch]
            for outcome in outcomes:
                _finish(outcome)
            return
        self._checkpointer.poke()
        # After-commit hooks run now, before the writer takes its next batch, as they did
        # when COMMIT waited for the fsync: the outbox relies on a dispatched row not
        # being recorded as sent before its dispatch hook has run. Only the answers wait
        # for the sync. (A hook may thus send a notification whose row a power cut then
        # loses; the cause fires again after restart: at most one repeat.)
        for _, _, _, callbacks in outcomes:
            run_hooks(callbacks)
        if self._syncs is None or not any(j.durable for j in batch):
            for job, result, error, _ in outcomes:
                settle(job.future, result, error)
            return

        def synced(sync_error: BaseException | None) -> None:
            # A commit whose WAL cannot be synced is not durable: its webhooks were
            # refused, so the store is not ready until a sync succeeds again.
            self._commit_error = None if sync_error is None else str(sync_error)
            self._sync_failed = sync_error is not None
            for job, result, error, _ in outcomes:
                settle(job.future, result, sync_error or error)

        self._syncs.after_sync(synced)


def _finish(outcome: Outcome) -> None:
    job, result, error, callbacks = outcome
    run_hooks(callbacks)
    settle(job.future, result, error)


def _touch(tx: Tx) -> None:
    # Rewrites one row unchanged: the commit writes (and syncs) a WAL frame, which is
    # what a full disk refuses.
    tx.execute("UPDATE schema_version SET version = version")
