"""The durable inbox: a webhook is answered once its raw body is committed (fsync'd) to
the intake file (`receiver.store.intake`); its processing follows in a transaction of
the main database.

Why an inbox rather than processing inside the ingest transaction: the only work on
the answer's critical path is one INSERT and the fsync, in a file no processing or
outbox transaction writes, so neither can delay an answer. Processing commits without
an fsync of its own: a webhook is processed once the main database's `webhooks` table
has its id (written in the same transaction as its effects); if a power cut loses that
transaction, the intake still holds the body and `replay` applies it again on start,
before the server listens. Processing is idempotent anyway: copies of an alert are
judged against its stored episode (`receiver.pipeline.episodes`).

Failures come in two kinds. A transient one (disk full, database locked, I/O error)
leaves the rows `received`; the inbox then stops taking work from memory and sweeps
the table in storage order, with backoff, until every `received` row is processed,
all while the process runs. Anything else is a defect of that one webhook (validation
should have refused it): the row is marked `error` with the reason, counted, logged
with its correlation id and exported (`tocsin_receiver_webhooks_failed_processing`),
and the webhooks behind it go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections import deque
from dataclasses import dataclass
from functools import partial

import structlog

from receiver.metrics import WEBHOOK_PROCESSING_ERRORS
from receiver.model.payload import Payload, parse_payload
from receiver.pipeline.context import Context
from receiver.pipeline.stages import process
from receiver.pipeline.work import Outcome
from receiver.store.base import Store, StoreError, Tx

log = structlog.get_logger("receiver.inbox")
_SWEEP_BATCH = 200
# Bodies read per sweep job, so a backlog of large webhooks is not all held at once.
_SWEEP_BYTES = 16 << 20
_JOB_MAX = 256
_JOB_BUDGET = 0.008
# Processing costs tens of microseconds per alert: above this many, a job would hold
# the event loop for more than a few tens of milliseconds.
_THREAD_ALERTS = 1000
# Bodies above this many bytes are decoded, stored and processed off the event loop,
# however few alerts they hold: large labels and annotations are copied, hashed and
# rendered too. Small ones stay inline, where a thread hop would cost more than the work.
OFF_LOOP_BYTES = 256 * 1024
RETRY_INITIAL = 0.25
RETRY_MAX = 15.0
# SQLite primary result codes that say "try again later", not "this input is bad":
# BUSY, LOCKED, NOMEM, READONLY, IOERR, FULL, CANTOPEN, PROTOCOL.
_TRANSIENT_CODES = frozenset({5, 6, 7, 8, 10, 13, 14, 15})


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored webhook waiting to be processed; `size` is its body's length in bytes."""

    webhook_id: int
    received_at: float
    correlation_id: str
    body: str
    payload: Payload
    size: int


def _is_big(job: Stored) -> bool:
    return job.size > OFF_LOOP_BYTES or len(job.payload.alerts) > _THREAD_ALERTS


def is_transient(exc: BaseException) -> bool:
    """Whether a processing failure may succeed on retry (storage trouble)."""
    if isinstance(exc, StoreError | OSError | MemoryError):
        return True
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return code is None or (code & 0xFF) in _TRANSIENT_CODES
    return False


def apply_stored(tx: Tx, ctx: Context, job: Stored, now: float) -> Outcome | None:
    """Process a stored webhook once; a transient failure propagates (the job fails and
    the webhook stays unprocessed), any other records it as `error` (kept, retried on
    start)."""
    tx.send("SAVEPOINT process")
    # Claiming the webhook first spares a SELECT; a failure rolls the claim back too.
    tx.execute(
        "INSERT INTO webhooks (id, received_at, correlation_id, body, state)"
        " VALUES (?, ?, ?, '', 'processed')"
        " ON CONFLICT (id) DO UPDATE SET state = 'processed', error = NULL, body = ''"
        " WHERE webhooks.state <> 'processed'",
        (job.webhook_id, job.received_at, job.correlation_id),
    )
    if tx.rowcount() == 0:
        tx.execute("RELEASE process")
        return None
    try:
        outcome = process(tx, ctx, job.payload, job.correlation_id, now)
        tx.execute("RELEASE process")
    except Exception as exc:
        if is_transient(exc):
            raise
        tx.execute("ROLLBACK TO process")
        tx.execute("RELEASE process")
        error = f"{type(exc).__name__}: {exc}"
        mark_failed(tx, job.webhook_id, job.received_at, job.correlation_id, job.body, error)
        return None
    return outcome


def mark_failed(
    tx: Tx, webhook_id: int, received_at: float, correlation_id: str, body: str, error: str
) -> None:
    """Set a webhook aside as `error` (it cannot be processed), with its body for the
    replay on start; count and log it."""
    tx.execute(
        "INSERT INTO webhooks (id, received_at, correlation_id, body, state, error)"
        " VALUES (?, ?, ?, ?, 'error', ?)"
        " ON CONFLICT (id) DO UPDATE SET state = 'error', error = excluded.error,"
        " body = excluded.body",
        (webhook_id, received_at, correlation_id, body, error),
    )

    def report() -> None:
        WEBHOOK_PROCESSING_ERRORS.labels("permanent").inc()
        log.error(
            "webhook_processing_failed",
            webhook_id=webhook_id,
            correlation_id=correlation_id,
            error=error,
        )

    tx.after_commit(report)


class Inbox:
    """Runs processing jobs for stored webhooks, in the order they were stored.

    Webhooks wait in a FIFO per writer lane (`Store.writers`: one on SQLite, several on
    PostgreSQL), chosen by group key; one write job per lane at a time takes what has
    queued up by the time the writer reaches it (up to `_JOB_MAX` webhooks or
    `_JOB_BUDGET` seconds of work), so under load many webhooks share a job and a commit,
    while answers queued behind a job wait for at most one bounded slice of processing.

    When a job fails (the store could not commit), the inbox switches to recovery: the
    FIFOs are dropped (its webhooks are on disk) and `_recover` sweeps `received` rows
    from the table, retrying with exponential backoff until a sweep finds nothing new.
    """

    def __init__(self, store: Store, ctx: Context) -> None:
        self.store = store
        self.ctx = ctx
        # One FIFO and one job per writer lane; a group's webhooks always take the same
        # lane, so they are processed in the order they were stored.
        self._queues: list[deque[Stored]] = [deque() for _ in range(max(1, store.writers))]
        self._jobs: list[asyncio.Future[None] | None] = [None] * len(self._queues)
        self.recovery: asyncio.Task[None] | None = None
        # Set by submissions during a recovery sweep: the sweep may have read too early.
        self._missed = False
        self.idle = asyncio.Event()
        self.idle.set()

    @property
    def pending(self) -> int:
        """Webhooks queued in memory for processing."""
        return sum(len(q) for q in self._queues)

    def submit(self, job: Stored) -> None:
        """Queue processing (after the webhook's own commit, so order follows storage);
        its size and alert count decide whether it is processed on a thread."""
        self.idle.clear()
        if self.recovery is not None:
            self._missed = True
            return
        lane = hash(job.payload.group_key) % len(self._queues)
        self._queues[lane].append(job)
        if self._jobs[lane] is None:
            self._schedule(lane)

    def _schedule(self, lane: int) -> None:
        # A big webhook is processed on a thread (it would hold the loop for a second
        # or more); it goes alone, small ones keep the inline fast path.
        queue = self._queues[lane]
        threaded = _is_big(queue[0])
        fn = partial(self._process_some, queue=queue, threaded=threaded)
        job = asyncio.ensure_future(
            self.store.write(fn, durable=False, threaded=threaded, lane=lane + 1)
        )
        self._jobs[lane] = job
        job.add_done_callback(partial(self._done, lane))

    def _process_some(self, tx: Tx, queue: deque[Stored], threaded: bool) -> None:
        deadline = time.perf_counter() + _JOB_BUDGET
        now = time.time()
        for i in range(_JOB_MAX if not threaded else 1):
            if not queue or time.perf_counter() > deadline:
                return
            try:
                if i > 0 and _is_big(queue[0]):
                    return
                job = queue.popleft()
            except IndexError:
                # Dropped meanwhile (this runs on a thread on PostgreSQL): another lane
                # failed, and the recovery sweep processes these from the table.
                return
            apply_stored(tx, self.ctx, job, now)

    def _quiet(self) -> bool:
        # Nothing runs and nothing more will: queued webhooks of a closed store stay on
        # disk for the next start.
        busy = self.recovery is not None or any(self._jobs)
        return not busy and (not self.pending or not self.store.is_open)

    def _done(self, lane: int, job: asyncio.Future[None]) -> None:
        self._jobs[lane] = None
        error = None if job.cancelled() else job.exception()
        if error is not None and self.store.is_open:
            WEBHOOK_PROCESSING_ERRORS.labels("transient").inc()
            log.warning("webhook_processing_deferred", error=str(error), retry_in=RETRY_INITIAL)
            for queue in self._queues:
                queue.clear()
            if self.recovery is None:
                self.recovery = asyncio.ensure_future(self._recover())
            return
        if self._queues[lane] and self.store.is_open and self.recovery is None:
            self._schedule(lane)
        elif self._quiet():
            self.idle.set()

    async def _recover(self) -> None:
        delay = RETRY_INITIAL
        try:
            while True:
                await asyncio.sleep(delay)
                if not self.store.is_open:
                    return
                self._missed = False
                try:
                    done = await self._sweep(("received",))
                except Exception as exc:
                    # Whatever failed, the rows are safe on disk: keep trying, slower.
                    WEBHOOK_PROCESSING_ERRORS.labels("transient").inc()
                    delay = min(max(delay, RETRY_INITIAL) * 2, RETRY_MAX)
                    log.warning("webhook_processing_deferred", error=str(exc), retry_in=delay)
                    continue
                if done:
                    log.info("webhooks_processed_after_retry", count=done)
                if not self._missed:
                    return
                delay = 0.0
        finally:
            self.recovery = None
            if self._quiet():
                self.idle.set()

    async def _sweep(self, states: tuple[str, ...], before: float | None = None) -> int:
        """Process every webhook not yet processed (in the intake) and every row of the
        main database in `states`, oldest first; returns how many were applied."""
        total = 0
        last = 0
        while True:
            rows = await self.store.read(
                partial(_read_stored, after=last, states=states, before=before)
            )
            if not rows:
                return total
            last = rows[-1].webhook_id
            await self.store.write(
                partial(_apply_rows, ctx=self.ctx, rows=rows, now=time.time()),
                durable=False,
                threaded=True,
            )
            total += len(rows)

    async def adopt(self, older_than: float) -> int:
        """Process webhooks stored before `older_than` and still `received` (several
        receivers on one database: a receiver that died after answering leaves them).
        Processing claims a webhook first, so one that its own receiver is processing
        meanwhile is applied once, by whichever gets there first."""
        return await self._sweep(("received",), before=older_than)

    async def replay(self) -> int:
        """Process every webhook left `received` or `error`, oldest first (on start)."""
        return await self._sweep(("received", "error"))

    async def drain(self) -> None:
        """Wait for queued processing jobs (on shutdown); a recovery in progress stops
        at once (its rows stay `received` and are replayed on the next start)."""
        if self.recovery is not None:
            self.recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.recovery
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle.wait(), timeout=10)


@dataclass
class _Row:
    webhook_id: int
    received_at: float
    correlation_id: str
    body: str
    payload: Payload | None
    error: str


def _read_stored(
    tx: Tx, after: int, states: tuple[str, ...], before: float | None = None
) -> list[_Row]:
    # Runs on a reader thread, so decoding large bodies stays off the event loop.
    marks = ", ".join("?" * len(states))
    if before is None:
        heads = tx.all(
            "SELECT id, received_at, correlation_id, length(body) AS size, 'main' AS source"  # noqa: S608
            f" FROM webhooks WHERE state IN ({marks}) AND id > ?"
            " UNION ALL SELECT i.id, i.received_at, i.correlation_id, length(i.body), 'intake'"
            " FROM intake.intake i WHERE i.id > ?"
            " AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = i.id)"
            " ORDER BY id LIMIT ?",
            (*states, after, after, _SWEEP_BATCH),
        )
    else:
        # Adoption (several receivers): only rows older than `before`, in this database.
        heads = tx.all(
            "SELECT id, received_at, correlation_id, length(body) AS size, 'main' AS source"  # noqa: S608
            f" FROM webhooks WHERE state IN ({marks}) AND id > ? AND received_at < ?"
            " ORDER BY id LIMIT ?",
            (*states, after, before, _SWEEP_BATCH),
        )
    out: list[_Row] = []
    size = 0
    for h in heads:
        if out and size + h["size"] > _SWEEP_BYTES:
            break
        size += h["size"]
        table = "webhooks" if h["source"] == "main" else "intake.intake"
        row = tx.one(f"SELECT body FROM {table} WHERE id = ?", (h["id"],))  # noqa: S608
        if row is None:
            continue
        try:
            payload: Payload | None = parse_payload(json.loads(row["body"]))
            error = ""
        except (ValueError, RecursionError) as exc:
            payload, error = None, f"stored body no longer valid: {exc}"
        out.append(
            _Row(h["id"], h["received_at"], h["correlation_id"], row["body"], payload, error)
        )
    return out


def _apply_rows(tx: Tx, ctx: Context, rows: list[_Row], now: float) -> None:
    for r in rows:
        if r.payload is None:
            still = tx.one("SELECT state FROM webhooks WHERE id = ?", (r.webhook_id,))
            if still is None or still["state"] != "processed":
                mark_failed(tx, r.webhook_id, r.received_at, r.correlation_id, r.body, r.error)
            continue
        job = Stored(r.webhook_id, r.received_at, r.correlation_id, r.body, r.payload, len(r.body))
        apply_stored(tx, ctx, job, now)
