"""Leases on outbox rows, for several receivers on one database (PostgreSQL).

A receiver sends a row only after claiming it: setting `lease_owner` to itself and
`lease_expires_at` to now plus `outbox.lease`, on a row that is pending and unleased (or
whose lease has expired). On PostgreSQL the rows to claim are picked `FOR UPDATE SKIP
LOCKED`, so receivers never wait for each other's claims. Only the owner records the
outcome (`record_attempt`); a receiver that dies mid-send leaves its lease to expire,
and another claims the row and sends it again with the same idempotency key: delivery
is at least once. Rows a receiver queues for a webhook it processes are inserted
already leased to it (`outbox.create.enqueue`), which spares a claim per notification;
a stopping receiver releases the leases of rows it has not sent. On SQLite (one receiver
per database file) nothing is claimed.
"""

from __future__ import annotations

import os
import socket
import uuid

from receiver.store.base import Row, Tx

_CLAIMABLE = "state = 'pending' AND (lease_owner IS NULL OR lease_expires_at < ?)"


def owner_id() -> str:
    """This receiver's name in leases: host, process and a random part (a pid reused
    after a restart is another owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim_ids(tx: Tx, ids: list[int], owner: str, now: float, lease: float) -> list[Row]:
    """Claim the given rows (just created by this receiver); returns those claimed."""
    if not ids:
        return []
    marks = ", ".join("?" * len(ids))
    rows = tx.all(
        "UPDATE notifications SET lease_owner = ?, lease_expires_at = ?"  # noqa: S608
        f" WHERE id IN (SELECT id FROM notifications WHERE id IN ({marks}) AND {_CLAIMABLE}"
        " FOR UPDATE SKIP LOCKED) RETURNING *",
        (owner, now + lease, *ids, now),
    )
    return sorted(rows, key=lambda r: int(r["id"]))


def claim_due(tx: Tx, owner: str, now: float, lease: float, limit: int) -> list[Row]:
    """Claim up to `limit` due rows, oldest first; returns those claimed."""
    rows = tx.all(
        "UPDATE notifications SET lease_owner = ?, lease_expires_at = ?"  # noqa: S608
        f" WHERE id IN (SELECT id FROM notifications WHERE {_CLAIMABLE}"
        " AND next_attempt_at <= ? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING *",
        (owner, now + lease, now, now, limit),
    )
    return sorted(rows, key=lambda r: int(r["id"]))


def release_leases(tx: Tx, owner: str) -> None:
    """Give up `owner`'s leases on rows still pending (a receiver stopping)."""
    tx.send(
        "UPDATE notifications SET lease_owner = NULL, lease_expires_at = NULL"
        " WHERE lease_owner = ? AND state = 'pending'",
        (owner,),
    )
