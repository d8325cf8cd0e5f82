"""Prune resolved incidents (and what hangs off them) older than the retention period."""

from __future__ import annotations

from receiver.store.base import Tx

_BATCH = 500


def prune(tx: Tx, older_than: float) -> int:
    """Delete up to a batch of incidents resolved before `older_than`; returns the count."""
    rows = tx.all(
        "SELECT id FROM incidents WHERE state = 'resolved' AND resolved_at < ? ORDER BY id LIMIT ?",
        (older_than, _BATCH),
    )
    ids = [(r["id"],) for r in rows]
    if not ids:
        return 0
    tx.executemany(
        "DELETE FROM attempts WHERE notification_id IN"
        " (SELECT id FROM notifications WHERE incident_id = ?)",
        ids,
    )
    for table in (
        "notifications",
        "incident_alerts",
        "alert_episodes",
        "incident_channels",
        "escalations",
        "timeline",
    ):
        tx.executemany(f"DELETE FROM {table} WHERE incident_id = ?", ids)  # noqa: S608
    tx.executemany("DELETE FROM incidents WHERE id = ?", ids)
    tx.execute("DELETE FROM webhooks WHERE received_at < ?", (older_than,))
    tx.execute(
        "DELETE FROM attempts WHERE notification_id IN (SELECT id FROM notifications"
        " WHERE incident_id IS NULL AND state IN ('delivered', 'digested') AND updated_at < ?)",
        (older_than,),
    )
    tx.execute(
        "DELETE FROM notifications WHERE incident_id IS NULL"
        " AND state IN ('delivered', 'digested') AND updated_at < ?",
        (older_than,),
    )
    return len(ids)
