"""Prune resolved incidents (and what hangs off them), processed webhooks and delivered
incident-less notifications older than the retention period."""

from __future__ import annotations

from dataclasses import dataclass

from receiver.store.base import Tx
from receiver.store.singleton import RETENTION_LOCK, try_singleton

_BATCH = 500
# The advisory lock key of retention on a shared (PostgreSQL) database ("prune" in ASCII).


@dataclass(frozen=True)
class Pruned:
    """What one batch removed; false once there was nothing left to remove."""

    incidents: int
    webhooks: int

    def __bool__(self) -> bool:
        return bool(self.incidents or self.webhooks)


def prune_singleton(tx: Tx, older_than: float, shared: bool) -> Pruned:
    """`prune`, by one receiver at a time: on a shared database (several receivers on
    PostgreSQL) only the one that gets `pg_try_advisory_xact_lock` (held until this
    transaction ends) prunes; the others prune nothing this round."""
    if not try_singleton(tx, RETENTION_LOCK, shared):
        return Pruned(0, 0)
    return prune(tx, older_than)


def prune(tx: Tx, older_than: float) -> Pruned:
    """Delete up to a batch of incidents resolved before `older_than`, and up to a batch
    of processed webhooks received before it.

    Webhooks are pruned on their own: a heartbeat or a flapping group sends one every
    minute without any incident coming due, and the table would grow for ever. A
    webhook still `received` (not processed yet) or in `error` (set aside for a person,
    and counted by `tocsin_receiver_webhooks_failed_processing`) is never deleted,
    whatever its age.
    """
    tx.execute(
        "DELETE FROM webhooks WHERE id IN (SELECT id FROM webhooks"
        " WHERE state = 'processed' AND received_at < ? ORDER BY id LIMIT ?)",
        (older_than, _BATCH),
    )
    webhooks = tx.rowcount()
    rows = tx.all(
        "SELECT id FROM incidents WHERE state = 'resolved' AND resolved_at < ? ORDER BY id LIMIT ?",
        (older_than, _BATCH),
    )
    ids = [(r["id"],) for r in rows]
    if not ids:
        return Pruned(0, webhooks)
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
        "channel_messages",
        "escalations",
        "timeline",
    ):
        tx.executemany(f"DELETE FROM {table} WHERE incident_id = ?", ids)  # noqa: S608
    tx.executemany("DELETE FROM incidents WHERE id = ?", ids)
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
    return Pruned(len(ids), webhooks)
