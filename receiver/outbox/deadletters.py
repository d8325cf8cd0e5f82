"""Dead letters: notifications that exhausted their attempts (see `record`), listed and
put back in the outbox by an admin."""

from __future__ import annotations

from receiver.store.base import Row, Tx


def dead_letters(tx: Tx, limit: int = 500) -> list[Row]:
    """Dead-lettered notifications, newest first."""
    return tx.all(
        "SELECT id, incident_id, channel, kind, attempts, last_error, idempotency_key,"
        " correlation_id, created_at, updated_at FROM notifications WHERE state = 'dead'"
        " ORDER BY id DESC LIMIT ?",
        (limit,),
    )


def requeue(tx: Tx, notification_id: int, now: float) -> str | None:
    """Put a dead letter back as pending with a fresh attempt budget.

    Returns the row's state before (only a `dead` row is changed), None when there is
    no such notification.
    """
    row = tx.one("SELECT state FROM notifications WHERE id = ?", (notification_id,))
    if row is None:
        return None
    if row["state"] == "dead":
        tx.execute(
            "UPDATE notifications SET state = 'pending', attempts = 0, next_attempt_at = ?,"
            " window_start = ?, updated_at = ? WHERE id = ?",
            (now, now, now, notification_id),
        )
    return str(row["state"])
