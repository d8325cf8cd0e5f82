"""The receiver's own alert for a missed heartbeat, as an Alertmanager payload.

Applied through the ordinary stages, it opens an incident like any other, so routing,
escalation, repeats, acknowledgement and the durable outbox all apply to the page.
"""

from __future__ import annotations

from typing import Any

from receiver.config import HeartbeatConfig
from receiver.model.payload import Payload, parse_payload
from receiver.model.snapshot import iso

# The incidents API shows this as the incident's receiver; Alertmanager never sends it.
RECEIVER = "tocsin-heartbeats"
RUNBOOK_URL = "https://github.com/tocsin/tocsin/blob/main/rules/RUNBOOK.md#tocsinheartbeatmissed"


def missed_payload(hb: HeartbeatConfig, due_at: float, last_seen_at: float | None) -> Payload:
    """A firing alert that started at the missed deadline (one incident per episode)."""
    labels = hb.missed_labels()
    matchers = ", ".join(str(m) for m in hb.parsed_matchers)
    since = (
        f"since {iso(last_seen_at)}"
        if last_seen_at is not None
        else f"since the receiver started watching for it ({iso(due_at - hb.interval)})"
    )
    annotations = {
        "summary": f"Heartbeat {hb.name} has stopped arriving.",
        "description": (
            f"No alert matching {{{matchers}}} has reached the receiver {since}; it is"
            f" expected at least every {hb.interval:g}s. Prometheus, Alertmanager or the"
            " webhook route to this receiver may be down, so other alerts may not arrive."
        ),
        "runbook_url": RUNBOOK_URL,
    }
    doc: dict[str, Any] = {
        "version": "4",
        "status": "firing",
        "receiver": RECEIVER,
        "groupKey": f'{{}}:{{heartbeat="{hb.name}"}}',
        "groupLabels": {"heartbeat": hb.name},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "",
        "truncatedAlerts": 0,
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": annotations,
                "startsAt": iso(due_at),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
            }
        ],
    }
    return parse_payload(doc)
