"""Stage heartbeat: alerts matching a configured heartbeat are taken out of the webhook.

A firing heartbeat alert moves that heartbeat's stored deadline to one interval from
now and, if it had been missed, resolves the incident its absence opened (the channels
paged get a resolved notification). It never opens an incident or notifies anyone of
its own; the rest of the webhook, if any, goes on through the stages.

This stage runs before dedup: Alertmanager resends an unchanged heartbeat with the same
fingerprint and startsAt, which dedup would drop, and every resend is a beat.
"""

from __future__ import annotations

import dataclasses

from receiver.config import HeartbeatConfig
from receiver.matchers import matches_all
from receiver.metrics import HEARTBEAT_LAST_SEEN
from receiver.model.snapshot import iso
from receiver.pipeline import episodes
from receiver.pipeline.context import Context
from receiver.pipeline.incident import resolve
from receiver.pipeline.work import Webhook
from receiver.store.base import Tx


def consume(tx: Tx, ctx: Context, w: Webhook) -> bool:
    """Take heartbeat alerts out of the webhook; stop when nothing else is left."""
    beats = ctx.config.heartbeats
    if not beats:
        return True
    alerts = w.payload.alerts
    rest = []
    arrived: dict[str, HeartbeatConfig] = {}
    for alert in alerts:
        hb = next((b for b in beats if matches_all(b.parsed_matchers, alert.labels)), None)
        if hb is None:
            rest.append(alert)
        elif alert.status == "firing":
            # A resolved heartbeat is no beat: it says the alert stopped, and the
            # deadline will say so too.
            arrived[hb.name] = hb
    for hb in arrived.values():
        beat(tx, ctx, hb, w.now, w.correlation_id)
    if len(rest) == len(alerts):
        return True
    if not rest:
        return False
    w.payload = dataclasses.replace(w.payload, alerts=rest)
    return True


def beat(tx: Tx, ctx: Context, hb: HeartbeatConfig, now: float, correlation_id: str) -> None:
    """Record that `hb` arrived at `now`; a missed heartbeat's incident resolves."""
    before = tx.one("SELECT state, incident_id FROM heartbeats WHERE name = ?", (hb.name,))
    tx.execute(
        "INSERT INTO heartbeats (name, state, since, last_seen_at, due_at, missed_count,"
        " updated_at) VALUES (?, 'ok', ?, ?, ?, 0, ?) ON CONFLICT (name) DO UPDATE SET"
        " state = 'ok', last_seen_at = excluded.last_seen_at, due_at = excluded.due_at,"
        " missed_since = NULL, incident_id = NULL, updated_at = excluded.updated_at",
        (hb.name, now, now, now + hb.interval, now),
    )
    tx.after_commit(lambda: HEARTBEAT_LAST_SEEN.labels(hb.name).set(now))
    if before is not None and before["state"] == "missed" and before["incident_id"] is not None:
        _back(tx, ctx, int(before["incident_id"]), now, correlation_id)


def _back(tx: Tx, ctx: Context, incident_id: int, now: float, correlation_id: str) -> None:
    """The heartbeat returned: its missed incident resolves, unless someone already did."""
    inc = tx.one("SELECT state FROM incidents WHERE id = ?", (incident_id,))
    if inc is None or inc["state"] == "resolved":
        return
    tx.execute(
        "UPDATE incident_alerts SET status = 'resolved', ends_at = ?, updated_at = ?"
        " WHERE incident_id = ?",
        (iso(now), now, incident_id),
    )
    episodes.end_all(tx, incident_id, now)
    resolve(tx, ctx, incident_id, now, "heartbeat", correlation_id)
