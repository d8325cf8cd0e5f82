"""Record one delivery attempt and decide: delivered, retry later, or dead letter.

What is stored (the attempt's error and response, the dead letter's last error) is read
back by viewers through the API, so it passes the redactor once more on the way in: the
channel took its own secrets out, this takes out every configured secret and credential
shape, whatever produced the text (a channel that raised, a plug-in channel).
"""

from __future__ import annotations

from receiver.channels.base import SendResult
from receiver.config import OutboxConfig
from receiver.outbox.backoff import next_delay
from receiver.store.base import Tx


def record_attempt(
    tx: Tx,
    notification_id: int,
    started: float,
    duration: float,
    result: SendResult,
    cfg: OutboxConfig,
    now: float,
    owner: str | None = None,
) -> str:
    """Store the attempt and the row's next state; returns delivered, retry or dead_letter,
    or stale (nothing recorded) when the row is no longer pending: something else settled it
    while the attempt was under way, or (several receivers) another receiver holds its
    lease now, ours having expired. Recording releases the lease."""
    row = tx.one(
        "SELECT attempts, window_start FROM notifications WHERE id = ? AND state = 'pending'"
        " AND (lease_owner IS NULL OR lease_owner = ?)",
        (notification_id, owner),
    )
    if row is None:
        return "stale"
    result = result.scrubbed(None)
    _insert_attempt(tx, notification_id, started, duration, result)
    attempts = int(row["attempts"]) + 1
    return _next_state(tx, notification_id, attempts, float(row["window_start"]), result, cfg, now)


def _insert_attempt(
    tx: Tx, notification_id: int, started: float, duration: float, result: SendResult
) -> None:
    """One `attempts` row, numbered after the notification's earlier attempts."""
    if result.ok:
        outcome = "delivered"
    elif result.retry:
        outcome = "retry"
    else:
        outcome = "permanent"
    tx.send(
        "INSERT INTO attempts (notification_id, attempt, started_at, duration, outcome, status,"
        " error, retry_after, response) SELECT ?, COUNT(*) + 1, ?, ?, ?, ?, ?, ?, ?"
        " FROM attempts WHERE notification_id = ?",
        (
            notification_id,
            started,
            duration,
            outcome,
            result.status,
            result.error,
            result.retry_after,
            (result.response or "")[:2000] or None,
            notification_id,
        ),
    )


def _next_state(
    tx: Tx,
    notification_id: int,
    attempts: int,
    window_start: float,
    result: SendResult,
    cfg: OutboxConfig,
    now: float,
) -> str:
    """Move the notification to delivered, a later retry or the dead letters; returns which.

    A failure is retried while it is retryable, under `max_attempts`, and the next try
    still falls within `max_age` of the row's window start.
    """
    if result.ok:
        tx.send(
            "UPDATE notifications SET state = 'delivered', attempts = ?, updated_at = ?,"
            " last_error = NULL, lease_owner = NULL WHERE id = ?",
            (attempts, now, notification_id),
        )
        return "delivered"
    delay = next_delay(attempts, cfg.backoff_initial, cfg.backoff_max, result.retry_after)
    within_age = now + delay - window_start <= cfg.max_age
    if result.retry and attempts < cfg.max_attempts and within_age:
        tx.send(
            "UPDATE notifications SET attempts = ?, next_attempt_at = ?, updated_at = ?,"
            " last_error = ?, lease_owner = NULL WHERE id = ?",
            (attempts, now + delay, now, result.error, notification_id),
        )
        return "retry"
    tx.send(
        "UPDATE notifications SET state = 'dead', attempts = ?, updated_at = ?, last_error = ?,"
        " lease_owner = NULL WHERE id = ?",
        (attempts, now, result.error, notification_id),
    )
    return "dead_letter"
