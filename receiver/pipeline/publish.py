"""Events for Server-Sent Events subscribers (incident changes, escalation steps),
published once committed; timestamps are RFC 3339 strings, as in the REST API."""

from __future__ import annotations

from typing import Any

from receiver.model.snapshot import iso
from receiver.pipeline.context import Context
from receiver.store.base import Tx


def publish_after_commit(tx: Tx, ctx: Context, kind: str, data: dict[str, Any]) -> None:
    """Publish one event to SSE subscribers once `tx` commits (never if it rolls back)."""
    tx.after_commit(lambda: ctx.publish(kind, data))


def publish_incident(tx: Tx, ctx: Context, incident_id: int, change: str) -> None:
    """Publish an incident change to SSE subscribers once committed."""
    row = tx.one(
        "SELECT id, state, severity, updated_at, correlation_id FROM incidents WHERE id = ?",
        (incident_id,),
    )
    if row is None:
        return
    publish_after_commit(
        tx, ctx, "incident", {"change": change, **row, "updated_at": iso(row["updated_at"])}
    )
