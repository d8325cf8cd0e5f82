"""Actions by people and tokens: ack, unack, resolve, replay — each audited."""

from __future__ import annotations

import json
from typing import Any

import structlog

from receiver.model.actor import Actor
from receiver.model.timeline import timeline
from receiver.outbox.deadletters import requeue
from receiver.pipeline import announce, escalate, timing
from receiver.pipeline.context import Context
from receiver.pipeline.incident import resolve
from receiver.pipeline.publish import publish_incident
from receiver.store.base import Tx

log = structlog.get_logger("receiver.audit")


class ActionError(Exception):
    """The action does not apply (unknown id, wrong state); `status` is the HTTP code."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


def audit(tx: Tx, actor: Actor, action: str, target: str, now: float, **detail: Any) -> None:
    """Store and log one audited action (with the channel it came through, if any)."""
    if actor.channel:
        detail = {**detail, "channel": actor.channel}
    tx.execute(
        "INSERT INTO audit (at, actor, role, action, target, detail, correlation_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            now,
            actor.name,
            actor.role,
            action,
            target,
            json.dumps(detail, sort_keys=True),
            actor.correlation_id,
        ),
    )
    tx.after_commit(
        lambda: log.info(
            "audit", actor=actor.name, role=actor.role, action=action, target=target, **detail
        )
    )


def _incident(tx: Tx, incident_id: int) -> dict[str, Any]:
    row = tx.one("SELECT id, state FROM incidents WHERE id = ?", (incident_id,))
    if row is None:
        raise ActionError(404, f"incident {incident_id} not found")
    return row


def ack(tx: Tx, ctx: Context, incident_id: int, actor: Actor, comment: str, now: float) -> None:
    """Acknowledge: stop escalation and repeats until unacknowledged."""
    inc = _incident(tx, incident_id)
    if inc["state"] != "firing":
        raise ActionError(409, f"incident {incident_id} is {inc['state']}, not firing")
    timing.acknowledged(tx, incident_id, now)
    tx.execute(
        "UPDATE incidents SET state = 'acknowledged', acked_by = ?, acked_at = ?,"
        " ack_comment = ?, updated_at = ? WHERE id = ?",
        (actor.name, now, comment or None, now, incident_id),
    )
    escalate.pause(tx, incident_id)
    timeline(tx, incident_id, now, "acknowledged", by=actor.name, comment=comment)
    audit(tx, actor, "ack", f"incident/{incident_id}", now, comment=comment)
    publish_incident(tx, ctx, incident_id, "acknowledged")
    announce.queue_ack_events(tx, ctx, incident_id, actor.correlation_id, now)


def unack(tx: Tx, ctx: Context, incident_id: int, actor: Actor, comment: str, now: float) -> None:
    """Unacknowledge: escalation and repeats resume."""
    inc = _incident(tx, incident_id)
    if inc["state"] != "acknowledged":
        raise ActionError(409, f"incident {incident_id} is {inc['state']}, not acknowledged")
    tx.execute(
        "UPDATE incidents SET state = 'firing', acked_by = NULL, acked_at = NULL,"
        " ack_comment = NULL, updated_at = ? WHERE id = ?",
        (now, incident_id),
    )
    escalate.resume(tx, incident_id, now)
    timeline(tx, incident_id, now, "unacknowledged", by=actor.name, comment=comment)
    audit(tx, actor, "unack", f"incident/{incident_id}", now, comment=comment)
    publish_incident(tx, ctx, incident_id, "unacknowledged")


def manual_resolve(
    tx: Tx, ctx: Context, incident_id: int, actor: Actor, comment: str, now: float
) -> None:
    """Resolve by hand: resolved notifications go to every channel that was notified."""
    inc = _incident(tx, incident_id)
    if inc["state"] == "resolved":
        raise ActionError(409, f"incident {incident_id} is already resolved")
    resolve(tx, ctx, incident_id, now, actor.name, actor.correlation_id or None)
    audit(tx, actor, "resolve", f"incident/{incident_id}", now, comment=comment)


def replay(tx: Tx, ctx: Context, notification_id: int, actor: Actor, now: float) -> None:
    """Put a dead letter back in the outbox with a fresh attempt budget."""
    state = requeue(tx, notification_id, now)
    if state is None:
        raise ActionError(404, f"notification {notification_id} not found")
    if state != "dead":
        raise ActionError(409, f"notification {notification_id} is {state}, not dead")
    audit(tx, actor, "replay", f"notification/{notification_id}", now)
    tx.after_commit(ctx.wake_outbox)
