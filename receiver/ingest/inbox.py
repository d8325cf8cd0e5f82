"""The durable inbox: a webhook is answered once its raw body is committed (fsync'd);
its processing follows in a later transaction and is replayed on start if lost.

Why an inbox rather than processing inside the ingest transaction: the only work on
the answer's critical path is one INSERT and the fsync, and the processing job joins
the next group commit. Processing commits without an fsync of its own: if a power
cut loses it, the webhook row is still `received` (its state change was in the lost
transaction) and `replay` applies it again on start, before the server listens.
Processing is idempotent anyway: alert events are deduplicated on
(group, fingerprint, status, startsAt).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from functools import partial
from typing import Any

import structlog

from receiver.ingest.payload import Payload, PayloadError, parse_payload
from receiver.pipeline.context import Context
from receiver.pipeline.process import Outcome, process
from receiver.store.base import Tx
from receiver.store.sqlite import SqliteStore

log = structlog.get_logger("receiver.inbox")
_REPLAY_BATCH = 200
_JOB_MAX = 256
_JOB_BUDGET = 0.008


def store_raw(tx: Tx, body: str, correlation_id: str, now: float) -> int:
    """Insert the raw webhook as `received`; returns its id."""
    return tx.execute(
        "INSERT INTO webhooks (received_at, correlation_id, body, state) VALUES (?, ?, ?, ?)",
        (now, correlation_id, body, "received"),
    )


def apply_stored(
    tx: Tx, ctx: Context, webhook_id: int, payload: Payload, correlation_id: str, now: float
) -> Outcome | None:
    """Process a stored webhook once; on failure mark it `error` (kept, retried on start)."""
    tx.execute("SAVEPOINT process")
    # Claiming the row first spares a SELECT; a failure rolls the claim back with the rest.
    tx.execute(
        "UPDATE webhooks SET state = 'processed', error = NULL"
        " WHERE id = ? AND state <> 'processed'",
        (webhook_id,),
    )
    if tx.rowcount() == 0:
        tx.execute("RELEASE process")
        return None
    try:
        outcome = process(tx, ctx, payload, correlation_id, now)
        tx.execute("RELEASE process")
    except Exception as exc:
        tx.execute("ROLLBACK TO process")
        tx.execute("RELEASE process")
        error = f"{type(exc).__name__}: {exc}"
        tx.execute(
            "UPDATE webhooks SET state = 'error', error = ? WHERE id = ?", (error, webhook_id)
        )
        tx.after_commit(
            lambda: log.error("webhook_processing_failed", webhook_id=webhook_id, error=error)
        )
        return None
    return outcome


class Inbox:
    """Runs processing jobs for stored webhooks, in the order they were stored.

    Webhooks wait in a FIFO; one write job at a time takes what has queued up by the
    time the writer reaches it (up to `_JOB_MAX` webhooks or `_JOB_BUDGET` seconds of
    work), so under load many webhooks share a job and a commit, while answers queued
    behind a job wait for at most one bounded slice of processing.
    """

    def __init__(self, store: SqliteStore, ctx: Context) -> None:
        self.store = store
        self.ctx = ctx
        self.pending: deque[tuple[int, Payload, str]] = deque()
        self.job: asyncio.Future[None] | None = None
        self.idle = asyncio.Event()
        self.idle.set()

    def submit(self, webhook_id: int, payload: Payload, correlation_id: str) -> None:
        """Queue processing (after the webhook's own commit, so order follows storage)."""
        self.pending.append((webhook_id, payload, correlation_id))
        self.idle.clear()
        if self.job is None:
            self._schedule()

    def _schedule(self) -> None:
        self.job = asyncio.ensure_future(self.store.write(self._process_some, durable=False))
        self.job.add_done_callback(self._done)

    def _process_some(self, tx: Tx) -> None:
        deadline = time.perf_counter() + _JOB_BUDGET
        now = time.time()
        for _ in range(_JOB_MAX):
            if not self.pending or time.perf_counter() > deadline:
                return
            webhook_id, payload, correlation_id = self.pending.popleft()
            apply_stored(tx, self.ctx, webhook_id, payload, correlation_id, now)

    def _done(self, job: asyncio.Future[None]) -> None:
        self.job = None
        error = None if job.cancelled() else job.exception()
        if error is not None:
            # Its webhooks are still `received` on disk: replayed on the next start.
            log.error("webhook_processing_deferred", error=str(error))
        if self.pending and self.store.is_open:
            self._schedule()
        else:
            self.idle.set()

    async def replay(self) -> int:
        """Process every webhook left `received` or `error`, oldest first."""
        total = 0
        last = 0
        while True:
            rows = await self.store.read(partial(_pending, after=last))
            if not rows:
                return total
            last = rows[-1]["id"]
            await self.store.write(partial(_apply_rows, ctx=self.ctx, rows=rows, now=time.time()))
            total += len(rows)

    async def drain(self) -> None:
        """Wait for queued processing jobs (on shutdown)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle.wait(), timeout=10)


def _pending(tx: Tx, after: int) -> list[dict[str, Any]]:
    return tx.all(
        "SELECT id, body, correlation_id FROM webhooks WHERE state IN ('received', 'error')"
        " AND id > ? ORDER BY id LIMIT ?",
        (after, _REPLAY_BATCH),
    )


def _apply_rows(tx: Tx, ctx: Context, rows: list[dict[str, Any]], now: float) -> None:
    for r in rows:
        try:
            payload = parse_payload(json.loads(r["body"]))
        except (ValueError, PayloadError) as exc:
            tx.execute(
                "UPDATE webhooks SET state = 'error', error = ? WHERE id = ?", (str(exc), r["id"])
            )
            continue
        apply_stored(tx, ctx, r["id"], payload, r["correlation_id"], now)
