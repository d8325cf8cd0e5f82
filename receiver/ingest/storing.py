"""Committing a webhook's raw body, and taking it back when the answer is a refusal."""

from __future__ import annotations

import contextlib
from functools import partial

from receiver.ingest.inbox import store_raw
from receiver.store.base import Store, StoreError, SyncError, Tx


async def store_webhook(
    store: Store, body: str, correlation_id: str, now: float, *, threaded: bool = False
) -> int:
    """Commit the webhook as `received` and return its id; StoreError when it cannot be
    answered as stored. `threaded` runs the insert off the event loop (a big body).

    A commit can go through and its WAL sync still fail (the files were removed or
    replaced, an I/O error): the sender is told 503 and retries, so the row is deleted
    again rather than left to be counted in `inbox_pending` and processed as if stored.
    """
    inserted: list[int] = []

    def insert(tx: Tx) -> int:
        webhook_id = store_raw(tx, body, correlation_id, now)
        inserted.append(webhook_id)
        return webhook_id

    try:
        return await store.write(insert, threaded=threaded)
    except SyncError:
        # Committed (a failed commit leaves nothing behind), so take it back. Best
        # effort: if this fails too, the restart replays the row like any other.
        if inserted:
            with contextlib.suppress(StoreError):
                await store.write(partial(_forget, webhook_id=inserted[0]), durable=False)
        raise


def _forget(tx: Tx, webhook_id: int) -> None:
    # Unless a recovery sweep got to it first: then its alerts already count, as stored.
    tx.execute("DELETE FROM webhooks WHERE id = ? AND state = 'received'", (webhook_id,))
