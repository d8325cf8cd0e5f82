"""Acks are announced: an acknowledgement queues an `acknowledged` notification for each
channel that was notified of the incident, in the transaction of the ack itself.

Being outbox rows written with the ack, the announcements are delivered like every
other notification (retries, dead letters) and survive a restart between the ack and
the send; one row per channel per ack is what makes each channel hear it once. A
channel keeping one message per incident (a Slack bot, Discord) edits that message.

Whether an incident's acks are announced is its routes' `announce_acks` (true unless a
route that picked it says false), decided on its labels when it is acknowledged. Channel
types that mirror acks to their provider (`wants_ack_events`, PagerDuty) are sent it
either way: for them it is the provider's own state, not an announcement.
"""

from __future__ import annotations

import json

from receiver.channels.base import channel_types
from receiver.model.snapshot import incident_snapshot
from receiver.outbox.create import insert_notification
from receiver.pipeline.context import Context
from receiver.store.base import Tx


def announces_acks(tx: Tx, ctx: Context, incident_id: int) -> bool:
    """Whether the routes picking this incident's labels announce its acks."""
    row = tx.one("SELECT common_labels, group_labels FROM incidents WHERE id = ?", (incident_id,))
    if row is None:
        return False
    labels = {**json.loads(row["common_labels"]), **json.loads(row["group_labels"])}
    return ctx.router.route(labels).announce_acks


def queue_ack_events(
    tx: Tx, ctx: Context, incident_id: int, correlation_id: str, now: float
) -> list[int]:
    """Queue one `acknowledged` notification per channel sent a firing, escalation or
    repeat notification of the incident (a digest or test told nobody about it alone);
    returns their ids."""
    types = channel_types()
    rows = tx.all(
        "SELECT DISTINCT channel FROM notifications WHERE incident_id = ?"
        " AND kind IN ('firing', 'escalation', 'repeat') ORDER BY channel",
        (incident_id,),
    )
    announce = announces_acks(tx, ctx, incident_id)
    wanted = []
    for row in rows:
        cc = ctx.config.channels.get(row["channel"])
        if cc is None or cc.type not in types:
            continue
        if announce or types[cc.type].wants_ack_events:
            wanted.append(cc.name)
    if not wanted:
        return []
    snapshot = incident_snapshot(tx, incident_id)
    ids = [
        insert_notification(
            tx,
            incident_id=incident_id,
            channel=channel,
            kind="acknowledged",
            correlation_id=correlation_id,
            snapshot=snapshot,
            now=now,
        )
        for channel in wanted
    ]
    tx.after_commit(ctx.wake_outbox)
    return ids
