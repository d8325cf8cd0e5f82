"""PostgreSQL backend: one writer per replica doing group commit, pooled readers, and
webhooks inserted straight into `webhooks` by their own short transactions.

Every psycopg call blocks, so all of them run in a bounded thread pool of this store's
own (as many threads as the connection pool has connections), never on the event loop.

Writes: as on SQLite, `write(fn)` jobs queue for a writer task, which takes every
queued job and runs them in one transaction on a thread (each in a savepoint when
several share it), commits once, then runs their after-commit hooks on the loop before
it takes the next batch. Jobs of one lane are applied one after another, in order, as
on SQLite's single writer. Lane 0 takes every job by default; webhook processing also
runs in lanes 1..`writers`, one lane per group key (receiver.ingest.inbox), because a
processing transaction spends most of its time waiting for round trips to the server,
not working: lanes wait side by side. Their transactions touch different incidents, and
the database already serialises what several replicas would do at once. PostgreSQL's
COMMIT returns once the commit is durable (`synchronous_commit` on, the server's
default), except for a batch of only non-durable jobs (store/pgbatch.py says why that
is safe).

Intake: `ingest` inserts the raw webhook as `received` into `webhooks` on a connection
of its own and commits; PostgreSQL locks rows, not the table, so the INSERT waits for no
processing job. Processing later claims the row (`received` → `processed`).

When the server cannot be reached, calls fail after `connect_timeout` with StoreError:
webhooks are answered 503, readiness reports why, and the pool reconnects by itself
once the server is back (no restart).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
import psycopg_pool
import structlog

from receiver.store.base import StoreError, Tx
from receiver.store.dsn import describe, redactor
from receiver.store.pgbatch import Job, Outcome, run_batch
from receiver.store.pgschema import migrate
from receiver.store.pgtx import PgTx, configure
from receiver.store.settle import run_hooks, settle
from receiver.store.writequeue import batches

R = TypeVar("R")
log = structlog.get_logger("receiver.store")
_MAX_BATCH = 512
# What says "the server is not there" rather than "this statement is wrong".
_UNREACHABLE = (psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout)
_INGEST = (
    "INSERT INTO webhooks (received_at, correlation_id, body, state)"
    " VALUES (%s, %s, %s, 'received') RETURNING id"
)


class PostgresStore:
    """The store on PostgreSQL at `dsn`; several receivers may share one database.

    `pool_size` bounds both the connections and the threads that use them;
    `connect_timeout` (seconds) is how long a call waits for a connection. Processing
    gets `(pool_size - 2) // 2` lanes of its own (at least one), which leaves half of
    the pool to lane 0, the webhooks' own inserts and the readers."""

    def __init__(self, dsn: str, pool_size: int = 8, connect_timeout: float = 5.0) -> None:
        self._redact = redactor(dsn)
        self._where = describe(dsn)
        self._timeout = connect_timeout
        self._pool = psycopg_pool.ConnectionPool(
            dsn,
            min_size=1,
            max_size=pool_size,
            open=False,
            configure=configure,
            timeout=self._timeout,
            # A connection broken by a server restart is found out (and replaced) when
            # it is taken, not by the webhook that would otherwise fail on it.
            check=psycopg_pool.ConnectionPool.check_connection,
            kwargs={"connect_timeout": max(1, int(self._timeout))},
            name="tocsin",
        )
        self._threads = concurrent.futures.ThreadPoolExecutor(
            max_workers=pool_size, thread_name_prefix="tocsin-pg"
        )
        self.writers = max(1, (pool_size - 2) // 2)
        self._lanes: dict[int, tuple[asyncio.Queue[Job | None], asyncio.Task[None]]] = {}
        self._open = True
        self.batches = 0
        self._commit_error: str | None = None
        self._intake_error: str | None = None
        # Why the last read could not reach the database: readiness reports an outage
        # even while nothing is written (the outbox and the scheduler read all the time).
        self._read_error: str | None = None

    @classmethod
    async def open(
        cls, dsn: str, pool_size: int = 8, connect_timeout: float = 5.0
    ) -> PostgresStore:
        """Connect and apply pending migrations (under the advisory lock); StoreError
        when the server cannot be reached or the migration fails."""
        store = cls(dsn, pool_size, connect_timeout)
        try:
            await store._call(store._start)
        except BaseException:
            store._threads.shutdown(wait=False)
            raise
        return store

    def _start(self) -> None:
        try:
            self._pool.open(wait=True, timeout=self._timeout)
            with self._pool.connection() as conn:
                applied = migrate(conn)
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            self._pool.close()
            raise StoreError(self._redact(f"cannot open the database: {exc}")) from exc
        if applied:
            log.info("schema_migrated", backend="postgres", versions=applied)

    def _unreachable(self, exc: BaseException) -> str:
        return self._redact(f"cannot reach the database at {self._where}: {exc}")

    async def _call(self, fn: Callable[..., R], *args: Any) -> R:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, fn, *args)

    @property
    def shared(self) -> bool:
        """Always: several receivers may run on one PostgreSQL database."""
        return True

    @property
    def is_open(self) -> bool:
        """Open and its writer tasks (once started) still running."""
        return self._open and not any(task.done() for _, task in self._lanes.values())

    @property
    def commit_error(self) -> str | None:
        """Why the last commit, the last webhook's intake or the last read failed to
        reach the database (readiness)."""
        return self._commit_error or self._intake_error or self._read_error

    async def write(
        self, fn: Callable[[Any], R], durable: bool = True, threaded: bool = False, lane: int = 0
    ) -> R:
        """Run `fn(tx)` in writer lane `lane` (0..`writers`); returns once its transaction
        has committed. Every job runs on a thread here, so `threaded` changes nothing; a
        batch of only `durable=False` jobs commits without waiting for the WAL flush
        (store/pgbatch)."""
        if not self._open:
            raise StoreError("store is closed")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[R] = loop.create_future()
        if lane not in self._lanes:
            queue: asyncio.Queue[Job | None] = asyncio.Queue()
            task = loop.create_task(self._run(queue), name=f"store-writer-{lane}")
            self._lanes[lane] = (queue, task)
        self._lanes[lane][0].put_nowait(Job(fn, fut, durable))
        return await fut

    async def ingest(self, body: str, correlation_id: str, now: float) -> int:
        """Insert and commit a raw webhook as `received`; returns its id once durable."""
        if not self._open:
            raise StoreError("store is closed")
        try:
            webhook_id = await self._call(self._insert_webhook, body, correlation_id, now)
        except StoreError as exc:
            self._intake_error = str(exc)
            raise
        self._intake_error = None
        return webhook_id

    def _insert_webhook(self, body: str, correlation_id: str, now: float) -> int:
        try:
            with self._pool.connection() as conn:
                row = conn.execute(_INGEST, (now, correlation_id, body)).fetchone()
        except _UNREACHABLE as exc:
            raise StoreError(self._unreachable(exc)) from exc
        except psycopg.Error as exc:
            raise StoreError(self._redact(f"could not store the webhook: {exc}")) from exc
        assert row is not None
        return int(row[0])

    async def probe(self) -> None:
        """A trial commit through the writer (readiness, after a failure)."""
        await self.write(_touch)
        self._intake_error = None
        self._read_error = None

    async def read(self, fn: Callable[[Any], R]) -> R:
        """Run `fn(tx)` in a read transaction on a thread of the store's pool."""
        return await self._call(self.read_sync, fn)

    def read_sync(self, fn: Callable[[Any], R]) -> R:
        """`read` on the calling thread; StoreError when the database cannot be read."""
        try:
            with self._pool.connection() as conn, conn.transaction():
                result = fn(PgTx(conn))
        except _UNREACHABLE as exc:
            self._read_error = self._unreachable(exc)
            raise StoreError(self._read_error) from exc
        except psycopg.Error as exc:
            raise StoreError(self._redact(f"read failed: {exc}")) from exc
        except StoreError as exc:
            self._read_error = self._redact(str(exc))
            raise StoreError(self._read_error) from exc
        self._read_error = None
        return result

    async def close(self) -> None:
        """Finish queued writes, then close the pool and its threads."""
        if not self._open:
            return
        self._open = False
        for queue, _ in self._lanes.values():
            queue.put_nowait(None)
        for _, task in self._lanes.values():
            await task
        await self._call(self._pool.close)
        self._threads.shutdown(wait=True)

    async def _run(self, queue: asyncio.Queue[Job | None]) -> None:
        async for batch in batches(queue, _MAX_BATCH):
            await self._commit_batch(batch)

    async def _commit_batch(self, batch: list[Job]) -> None:
        try:
            outcomes = await self._call(self._commit_sync, batch)
        except StoreError as exc:
            message = self._redact(str(exc))
            log.error("store_commit_failed", error=message, jobs=len(batch))
            self._commit_error = message
            for job in batch:
                settle(job.future, None, StoreError(message))
            return
        self._commit_error = None
        self.batches += 1
        for _, _, _, callbacks in outcomes:
            run_hooks(callbacks)
        for job, result, error, _ in outcomes:
            settle(job.future, result, error)

    def _commit_sync(self, batch: list[Job]) -> list[Outcome]:
        try:
            with self._pool.connection() as conn:
                try:
                    outcomes = run_batch(conn, batch)
                    conn.commit()
                except BaseException:
                    conn.rollback()
                    raise
        except _UNREACHABLE as exc:
            raise StoreError(self._unreachable(exc)) from exc
        except psycopg.Error as exc:
            raise StoreError(f"could not commit: {exc}") from exc
        return outcomes


def _touch(tx: Tx) -> None:
    tx.execute("UPDATE schema_version SET version = version")
