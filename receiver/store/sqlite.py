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
commits on power loss).

Group commit: the writer is a task on the event loop. It takes every queued job, runs
each (in a savepoint when several share the batch) and then commits once. Jobs queued
meanwhile form the next batch. The jobs themselves are short CPU-bound SQL; running them
on the loop avoids handing the GIL back and forth with a writer thread after every
statement, which under load cost more than the statements. Checkpoints (copying the WAL
into the database file, with fsyncs) run on a thread of their own, off the loop.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import structlog

from receiver.store.base import Row, StoreError
from receiver.store.schema import MIGRATIONS

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


class WalSync:
    """fdatasync of the WAL file, reopened when SQLite replaces the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._inode = -1

    def sync(self) -> None:
        inode = os.stat(self.path).st_ino
        if self._fd is None or inode != self._inode:
            self.close()
            self._fd = os.open(self.path, os.O_RDONLY)
            self._inode = inode
            # A new WAL file's directory entry must be durable too.
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        os.fdatasync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class SyncGroup:
    """Runs WAL syncs one at a time; commits that arrive meanwhile share the next one."""

    def __init__(self, wal: WalSync) -> None:
        self.wal = wal
        self._waiting: list[Callable[[BaseException | None], None]] = []
        self._running: asyncio.Task[None] | None = None

    def after_sync(self, done: Callable[[BaseException | None], None]) -> None:
        """Call `done(error)` once a sync that started after this call has finished."""
        self._waiting.append(done)
        if self._running is None:
            self._running = asyncio.get_running_loop().create_task(self._sync_all())

    async def _sync_all(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            error: BaseException | None = None
            try:
                await asyncio.to_thread(self.wal.sync)
            except OSError as exc:
                log.error("store_sync_failed", error=str(exc), batches=len(group))
                error = StoreError(f"could not sync the WAL: {exc}")
            for done in group:
                done(error)
        self._running = None

    async def drain(self) -> None:
        while self._running is not None:
            await asyncio.shield(self._running)


class Checkpointer:
    """Copies the WAL into the database file on its own thread and connection.

    The writer's automatic checkpoint would run inside a COMMIT on the event loop, with
    two fsyncs; a PASSIVE checkpoint here runs beside the writer instead.
    """

    def __init__(self, path: Path, every: float = 0.2) -> None:
        self.path = path
        self.every = every
        self._event = threading.Event()
        self._stop = False
        self._last = 0.0
        self._thread = threading.Thread(target=self._run, name="store-checkpoint", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """Ask for a checkpoint (at most one per `every` seconds)."""
        now = time.monotonic()
        if now - self._last > self.every:
            self._last = now
            self._event.set()

    def _run(self) -> None:
        conn = connect(self.path, "NORMAL")
        try:
            while True:
                self._event.wait()
                self._event.clear()
                if self._stop:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:
                    log.warning("checkpoint_failed", error=str(exc))
        finally:
            conn.close()

    def close(self) -> None:
        self._stop = True
        self._event.set()
        self._thread.join(10)


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


def connect(path: Path, synchronous: str = "FULL") -> sqlite3.Connection:
    """Open a connection with the pragmas every connection needs."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA foreign_keys=OFF")
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Apply pending migrations; returns the schema version."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    current = int(row[0] or 0)
    for version, statements in enumerate(MIGRATIONS, start=1):
        if version <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for sql in statements:
                conn.execute(sql)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
        current = version
    return current


class SqliteStore:
    """The embedded store: `receiver.db` under the storage path."""

    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        self.path = path
        self.synchronous = synchronous
        path.parent.mkdir(parents=True, exist_ok=True)
        explicit = synchronous in ("FULL", "EXTRA")
        self._writer = connect(path, "NORMAL" if explicit else synchronous)
        migrate(self._writer)
        self._writer.execute("PRAGMA wal_autocheckpoint=0")
        self._syncs = SyncGroup(WalSync(Path(f"{path}-wal"))) if explicit else None
        self._checkpointer = Checkpointer(path)
        self._queue: asyncio.Queue[_Job | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._open = True
        self.batches = 0
        # Why the last commit failed; None once one has succeeded (readiness).
        self.commit_error: str | None = None

    @property
    def is_open(self) -> bool:
        return self._open and (self._task is None or not self._task.done())

    def _ensure_writer(self) -> asyncio.Queue[_Job | None]:
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="store-writer")
        return self._queue

    async def write(
        self, fn: Callable[[Any], R], durable: bool = True, threaded: bool = False
    ) -> R:
        """Run `fn(tx)` in the writer; returns once its transaction has committed.

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

    async def read(self, fn: Callable[[Any], R]) -> R:
        """Run `fn(tx)` on a reader connection in a thread (sees committed data only)."""
        return await asyncio.to_thread(self.read_sync, fn)

    def read_sync(self, fn: Callable[[Any], R]) -> R:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, self.synchronous)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        conn.execute("BEGIN")
        try:
            return fn(_Tx(conn))
        finally:
            conn.execute("COMMIT")

    async def backup(self, target: Path) -> None:
        """Copy the live database with SQLite's online backup API."""
        await asyncio.to_thread(backup_file, self.path, target)

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
        self._close_connections()

    def close_sync(self) -> None:
        """Close without an event loop (nothing may be queued)."""
        self._open = False
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

    async def _run(self) -> None:
        assert self._queue is not None
        q = self._queue
        stop = False
        while not stop:
            job = await q.get()
            if job is None:
                break
            batch = [job]
            while len(batch) < _MAX_BATCH and not q.empty():
                nxt = q.get_nowait()
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
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
                self.commit_error = None
            self.batches += 1
        except sqlite3.Error as exc:
            log.error("store_commit_failed", error=str(exc), jobs=len(batch))
            self.commit_error = str(exc)
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
            _run_hooks(callbacks)
        if self._syncs is None or not any(j.durable for j in batch):
            for job, result, error, _ in outcomes:
                _settle(job, result, error)
            return

        def synced(sync_error: BaseException | None) -> None:
            for job, result, error, _ in outcomes:
                _settle(job, result, sync_error or error)

        self._syncs.after_sync(synced)


def _finish(outcome: Outcome) -> None:
    job, result, error, callbacks = outcome
    _run_hooks(callbacks)
    _settle(job, result, error)


def _run_hooks(callbacks: list[Callable[[], None]]) -> None:
    for cb in callbacks:
        try:
            cb()
        except Exception:
            log.exception("after_commit_failed")


def _settle(job: _Job, result: Any, error: BaseException | None) -> None:
    if job.future.done():
        return
    if error is not None:
        job.future.set_exception(error)
    else:
        job.future.set_result(result)


def backup_file(source: Path, target: Path) -> None:
    """Online backup of `source` to `target` (safe while the receiver runs)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(str(source))
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
