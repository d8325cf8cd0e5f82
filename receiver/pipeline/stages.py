"""The path of one webhook, top to bottom.

`receiver.ingest` answers Alertmanager once the body is stored; its inbox then calls
`process` in a later transaction, and the stages below run in order, each deciding
what it owns and passing the `Webhook` on (a stage returning False ends the run):

    ingest    count the alerts; key the group and find its latest incident
    heartbeat take out heartbeat alerts (they move a deadline, never notify)
    dedup     drop events seen before; decide whether a new incident opens
    route     a new incident: where the routing tree sends it
    storm     a new, non-critical incident opened during a storm folds into digests
    incident  open the incident (or update the open one) and record the new events
    escalate  a new incident: schedule its escalation policies' steps
    outbox    store its notifications in the outbox and tell event subscribers

Storm comes before the incident is written (its storm mode is stored with it and in
its "created" timeline entry, and the storm count is of the incidents before it);
escalate needs the written incident, and its first steps are queued by outbox after
the routes' channels.
"""

from __future__ import annotations

from collections.abc import Callable

from receiver.model.payload import Payload
from receiver.pipeline import dedup, escalate, incident, ingest, outbox, route, storm
from receiver.pipeline.context import Context
from receiver.pipeline.heartbeat import seen
from receiver.pipeline.work import Outcome, Webhook
from receiver.store.base import Tx

Stage = Callable[[Tx, Context, Webhook], bool]

STAGES: tuple[Stage, ...] = (
    ingest.receive,
    seen.consume,
    dedup.drop_seen,
    route.route,
    storm.check,
    incident.record,
    escalate.schedule,
    outbox.queue,
)


def process(tx: Tx, ctx: Context, payload: Payload, correlation_id: str, now: float) -> Outcome:
    """Apply one webhook in the transaction that claims it; returns what it changed."""
    w = Webhook(payload, correlation_id, now)
    for stage in STAGES:
        if not stage(tx, ctx, w):
            break
    return w.outcome
