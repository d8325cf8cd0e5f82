"""Stage outbox: store the notifications the stages above decided on, in the outbox
(`receiver.outbox` delivers them), and tell event subscribers."""

from __future__ import annotations

from receiver.outbox.create import enqueue, notified_channels
from receiver.pipeline.context import Context
from receiver.pipeline.escalate import fire_due
from receiver.pipeline.incident import resolve
from receiver.pipeline.publish import publish_incident
from receiver.pipeline.work import Webhook
from receiver.store.base import Tx


def queue(tx: Tx, ctx: Context, w: Webhook) -> bool:
    """A new incident: firing to its routes' channels, then the escalation steps already
    due. An open one: resolved to every notified channel once no alert fires, else the
    change to them as firing."""
    out, incident_id, now, cid = w.outcome, w.incident_id, w.now, w.correlation_id
    if w.opens:
        out.notifications += enqueue(
            tx, ctx, incident_id, w.target.channels, "firing", now, correlation_id=cid
        )
        if w.target.policies:
            out.notifications += fire_due(tx, ctx, now, incident_id)
        publish_incident(tx, ctx, incident_id, "created")
        return True
    firing = tx.one(
        "SELECT COUNT(*) AS n FROM incident_alerts WHERE incident_id = ? AND status = 'firing'",
        (incident_id,),
    )
    if firing is not None and firing["n"] == 0:
        out.notifications += resolve(tx, ctx, incident_id, now, None, cid)
    else:
        channels = notified_channels(tx, incident_id)
        out.notifications += enqueue(
            tx, ctx, incident_id, channels, "firing", now, correlation_id=cid
        )
        publish_incident(tx, ctx, incident_id, "updated")
    return True
