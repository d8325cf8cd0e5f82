"""Fold notifications that could not be sent (rate limit, storm) into one digest message:
rows over a rate limit are marked folded, and a channel's folded rows become one digest."""

from __future__ import annotations

import json
import uuid

from receiver.metrics import DIGESTS
from receiver.model.digest import digest_entry, digest_snapshot
from receiver.outbox.create import insert_notification
from receiver.store.base import Tx
from receiver.store.singleton import digest_lock, try_singleton

_MAX_FOLD = 10000


def make_digest(tx: Tx, channel: str, now: float, shared: bool = False) -> int | None:
    """Turn every folded row of `channel` into one pending digest; returns its id. On a
    shared database one receiver at a time makes a channel's digest, so two cannot each
    fold the same rows into a digest of their own."""
    if not try_singleton(tx, digest_lock(channel), shared):
        return None
    rows = tx.all(
        "SELECT id, incident_id, kind, snapshot, correlation_id, folded_reason FROM notifications"
        " WHERE channel = ? AND state = 'folded' ORDER BY id LIMIT ?",
        (channel, _MAX_FOLD),
    )
    if not rows:
        return None
    entries = [
        digest_entry(r["id"], r["kind"], json.loads(r["snapshot"]), r["folded_reason"])
        for r in rows
    ]
    digest_id = insert_notification(
        tx,
        incident_id=None,
        channel=channel,
        kind="digest",
        correlation_id=f"digest-{uuid.uuid4().hex[:16]}",
        snapshot=digest_snapshot(entries),
        now=now,
    )
    tx.executemany(
        "UPDATE notifications SET state = 'digested', digest_id = ?, updated_at = ? WHERE id = ?",
        [(digest_id, now, r["id"]) for r in rows],
    )
    DIGESTS.labels(channel).inc()
    return digest_id


def fold(tx: Tx, rows: list[tuple[int, str]], now: float) -> None:
    """Fold pending rows `(id, channel)` that are over their channel's rate limit."""
    tx.executemany(
        "UPDATE notifications SET state = 'folded', folded_reason = 'rate_limit', updated_at = ?"
        " WHERE id = ? AND state = 'pending'",
        [(now, i) for i, _ in rows],
    )


def folded_channels(tx: Tx) -> list[str]:
    """Channels with folded rows waiting for a digest."""
    rows = tx.all("SELECT DISTINCT channel FROM notifications WHERE state = 'folded'")
    return [r["channel"] for r in rows]
