"""Stage ingest: take in a webhook that `receiver.ingest` has stored, count its alerts and
find the group's latest incident."""

from __future__ import annotations

import hashlib

from receiver.metrics import ALERTS_RECEIVED
from receiver.pipeline.context import Context
from receiver.pipeline.work import Webhook
from receiver.store.base import Tx


def incident_key(receiver: str, group_key: str) -> str:
    """Stable key of the (Alertmanager receiver, groupKey) pair."""
    return hashlib.sha256(f"{receiver}\x00{group_key}".encode()).hexdigest()[:32]


def receive(tx: Tx, ctx: Context, w: Webhook) -> bool:
    """Count the alerts by status, key the group and look up its latest incident."""
    p = w.payload
    firing_count = sum(1 for a in p.alerts if a.status == "firing")
    ALERTS_RECEIVED.labels("firing").inc(firing_count)
    ALERTS_RECEIVED.labels("resolved").inc(len(p.alerts) - firing_count)
    w.key = incident_key(p.receiver, p.group_key)
    w.incident = tx.one(
        "SELECT id, state FROM incidents WHERE key = ? ORDER BY id DESC LIMIT 1", (w.key,)
    )
    return True
