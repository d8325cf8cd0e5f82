"""Incident changes for Server-Sent Events subscribers, published once committed."""

from __future__ import annotations

from receiver.pipeline.context import Context
from receiver.store.base import Tx


def publish_incident(tx: Tx, ctx: Context, incident_id: int, change: str) -> None:
    """Publish an incident change to SSE subscribers once committed."""
    row = tx.one(
        "SELECT id, state, severity, updated_at, correlation_id FROM incidents WHERE id = ?",
        (incident_id,),
    )
    if row is None:
        return
    event = {"change": change, **row}
    tx.after_commit(lambda: ctx.publish("incident", event))
