"""Create outbox rows: every notification is stored before anything is sent."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from typing import Any

from receiver.metrics import FOLDED
from receiver.model.snapshot import incident_snapshot_text
from receiver.model.timeline import timeline
from receiver.outbox.context import OutboxContext
from receiver.store.base import Tx
from receiver.store.jsontext import dumps_sorted


def insert_notification(
    tx: Tx,
    *,
    incident_id: int | None,
    channel: str,
    kind: str,
    correlation_id: str,
    snapshot: dict[str, Any],
    now: float,
    step: int | None = None,
    folded_reason: str | None = None,
) -> int:
    """Insert one outbox row (pending, or folded for a digest) and return its id."""
    return int(
        insert_notification_row(
            tx,
            incident_id=incident_id,
            channel=channel,
            kind=kind,
            correlation_id=correlation_id,
            snapshot=snapshot,
            now=now,
            step=step,
            folded_reason=folded_reason,
        )["id"]
    )


def insert_notification_row(
    tx: Tx,
    *,
    incident_id: int | None,
    channel: str,
    kind: str,
    correlation_id: str,
    snapshot: dict[str, Any] | str,
    now: float,
    step: int | None = None,
    folded_reason: str | None = None,
) -> dict[str, Any]:
    """Insert one outbox row; returns the columns the outbox worker needs to send it."""
    state = "folded" if folded_reason else "pending"
    # Time first, then 64 random bits (as UUIDv7 orders them): keys of one commit land
    # on the same leaf of the unique index instead of one random leaf each.
    key = f"tocsin-{time.time_ns():016x}{secrets.token_hex(8)}"
    text = snapshot if isinstance(snapshot, str) else dumps_sorted(snapshot)
    row_id = tx.execute(
        "INSERT INTO notifications (incident_id, channel, kind, idempotency_key, correlation_id,"
        " snapshot, escalation_step, state, attempts, next_attempt_at, window_start, created_at,"
        " updated_at, folded_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
        (
            incident_id,
            channel,
            kind,
            key,
            correlation_id,
            text,
            step,
            state,
            now,
            now,
            now,
            now,
            folded_reason,
        ),
    )
    return {
        "id": row_id,
        "incident_id": incident_id,
        "channel": channel,
        "kind": kind,
        "idempotency_key": key,
        "correlation_id": correlation_id,
        "snapshot": text,
        "escalation_step": step,
        "attempts": 0,
        "state": state,
    }


def enqueue(
    tx: Tx,
    ctx: OutboxContext,
    incident_id: int,
    channels: Iterable[str],
    kind: str,
    now: float,
    step: int | None = None,
    correlation_id: str | None = None,
) -> list[int]:
    """Queue `kind` notifications of an incident for `channels`; storm incidents fold.

    `correlation_id` names what caused them (the webhook or API request); scheduled
    ones (escalation, repeat) carry the incident's, that of the webhook that opened it.
    """
    names = [c for c in dict.fromkeys(channels) if c in ctx.config.channels]
    if not names:
        return []
    snapshot, row = incident_snapshot_text(tx, incident_id)
    reason = "storm" if row["storm"] else None
    rows = []
    for name in names:
        rows.append(
            insert_notification_row(
                tx,
                incident_id=incident_id,
                channel=name,
                kind=kind,
                correlation_id=correlation_id or row["correlation_id"],
                snapshot=snapshot,
                now=now,
                step=step,
                folded_reason=reason,
            )
        )
        tx.execute(
            "INSERT INTO incident_channels (incident_id, channel) VALUES (?, ?)"
            " ON CONFLICT DO NOTHING",
            (incident_id, name),
        )
        if reason:
            FOLDED.labels(name, reason).inc()
    timeline(tx, incident_id, now, "notification_queued", kind=kind, channels=names, step=step)
    if reason:
        tx.after_commit(ctx.wake_outbox)
    else:
        tx.after_commit(lambda: ctx.dispatch(rows))
    return [int(r["id"]) for r in rows]


def notified_channels(tx: Tx, incident_id: int) -> list[str]:
    """Channels that have been sent (or queued) something for this incident."""
    rows = tx.all(
        "SELECT channel FROM incident_channels WHERE incident_id = ? ORDER BY channel",
        (incident_id,),
    )
    return [r["channel"] for r in rows]
