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
import json
import time
from functools import partial
from typing import Any

import structlog

from receiver.ingest.payload import Payload, PayloadError, parse_payload
from receiver.pipeline.context import Context
from receiver.pipeline.process import Outcome, process
from receiver.store.base import StoreError, Tx
from receiver.store.sqlite import SqliteStore

log = structlog.get_logger("receiver.inbox")
_REPLAY_BATCH = 200


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
    row = tx.one("SELECT state FROM webhooks WHERE id = ?", (webhook_id,))
    if row is None or row["state"] == "processed":
        return None
    tx.execute("SAVEPOINT process")
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
    tx.execute("UPDATE webhooks SET state = 'processed', error = NULL WHERE id = ?", (webhook_id,))
    return outcome


class Inbox:
    """Runs processing jobs for stored webhooks, in the order they were stored."""

    def __init__(self, store: SqliteStore, ctx: Context) -> None:
        self.store = store
        self.ctx = ctx
        self.tasks: set[asyncio.Task[Any]] = set()

    def submit(self, webhook_id: int, payload: Payload, correlation_id: str) -> None:
        """Queue processing now (the writer is FIFO, so order follows submission)."""
        now = time.time()
        ctx = self.ctx
        coro = self.store.write(
            lambda tx: apply_stored(tx, ctx, webhook_id, payload, correlation_id, now),
            durable=False,
        )
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and isinstance(task.exception(), StoreError):
            # Still `received` on disk: replayed on the next start.
            log.error("webhook_processing_deferred", error=str(task.exception()))

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
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=10)


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
