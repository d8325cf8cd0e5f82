"""Stage incident: open the new incident, or update the open one, and record the new
alert events on it; also how an incident resolves (by Alertmanager or by hand)."""

from __future__ import annotations

from receiver.model.payload import Alert
from receiver.model.timeline import timeline
from receiver.outbox.create import enqueue, notified_channels
from receiver.pipeline import episodes, timing
from receiver.pipeline.context import Context
from receiver.pipeline.publish import publish_incident
from receiver.pipeline.work import Webhook
from receiver.store.base import Row, Tx
from receiver.store.jsontext import dumps_labels, dumps_sorted


def record(tx: Tx, ctx: Context, w: Webhook) -> bool:
    """Open or update the incident with the new events; stop at a resolved incident
    (its late resolutions are recorded, nobody is told)."""
    if w.opens:
        w.incident = _open(tx, w)
        w.outcome.created = True
        w.outcome.incident_id = w.incident_id
    incident_id = w.incident_id
    _record_events(tx, w.key, incident_id, w.applied, w.correlation_id, w.now)
    if w.opens:
        return True
    p = w.payload
    tx.execute(
        "UPDATE incidents SET common_labels = ?, common_annotations = ?, external_url = ?,"
        " truncated_alerts = ?, updated_at = ? WHERE id = ?",
        (
            dumps_labels(p.common_labels),
            dumps_labels(p.common_annotations),
            p.external_url,
            p.truncated_alerts,
            w.now,
            incident_id,
        ),
    )
    assert w.incident is not None
    return bool(w.incident["state"] != "resolved")


def resolve(
    tx: Tx,
    ctx: Context,
    incident_id: int,
    now: float,
    by: str | None,
    correlation_id: str | None = None,
) -> list[int]:
    """Mark resolved, stop escalation and tell every channel that was notified; the
    notifications carry `correlation_id`, that of the webhook or request resolving it."""
    timing.resolved(tx, incident_id, now)
    tx.execute(
        "UPDATE incidents SET state = 'resolved', resolved_at = ?, updated_at = ?,"
        " repeat_due_at = NULL WHERE id = ?",
        (now, now, incident_id),
    )
    tx.execute("DELETE FROM escalations WHERE incident_id = ?", (incident_id,))
    timeline(tx, incident_id, now, "resolved", by=by or "alertmanager")
    publish_incident(tx, ctx, incident_id, "resolved")
    channels = notified_channels(tx, incident_id)
    return enqueue(tx, ctx, incident_id, channels, "resolved", now, correlation_id=correlation_id)


def _open(tx: Tx, w: Webhook) -> Row:
    """Insert a firing incident where the routes send it; returns its id and state."""
    p, target, key, now = w.payload, w.target, w.key, w.now
    correlation_id, in_storm = w.correlation_id, w.in_storm
    repeat = target.repeat_interval
    incident_id = tx.execute(
        "INSERT INTO incidents (key, receiver, group_key, state, severity, group_labels,"
        " common_labels, common_annotations, external_url, truncated_alerts, correlation_id,"
        " storm, route_channels, route_policies, repeat_interval, repeat_due_at, created_at,"
        " updated_at) VALUES (?, ?, ?, 'firing', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            key,
            p.receiver,
            p.group_key,
            w.severity,
            dumps_labels(p.group_labels),
            dumps_labels(p.common_labels),
            dumps_labels(p.common_annotations),
            p.external_url,
            p.truncated_alerts,
            correlation_id,
            1 if in_storm else 0,
            dumps_sorted(list(target.channels)),
            dumps_sorted(list(target.policies)),
            repeat,
            now + repeat if repeat else None,
            now,
            now,
        ),
    )
    timeline(tx, incident_id, now, "created", correlation_id=correlation_id, storm=in_storm)
    return {"id": incident_id, "state": "firing"}


def _record_events(
    tx: Tx, key: str, incident_id: int, applied: list[Alert], correlation_id: str, now: float
) -> None:
    """Record the new episodes, upsert the incident's alerts and note the change."""
    if not applied:
        return
    episodes.record(tx, key, incident_id, applied, now)
    tx.executemany(
        "INSERT INTO incident_alerts (incident_id, fingerprint, status, labels, annotations,"
        " starts_at, starts_ts, ends_at, generator_url, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (incident_id, fingerprint) DO UPDATE SET status = excluded.status,"
        " labels = excluded.labels, annotations = excluded.annotations,"
        " starts_at = excluded.starts_at, starts_ts = excluded.starts_ts,"
        " ends_at = excluded.ends_at, generator_url = excluded.generator_url,"
        " updated_at = excluded.updated_at",
        [
            (
                incident_id,
                a.fingerprint,
                a.status,
                dumps_labels(a.labels),
                dumps_labels(a.annotations),
                a.starts_at,
                a.starts_ts,
                a.ends_at,
                a.generator_url,
                now,
            )
            for a in applied
        ],
    )
    timeline(
        tx,
        incident_id,
        now,
        "alerts_changed",
        correlation_id=correlation_id,
        alerts=[
            {"fingerprint": a.fingerprint, "status": a.status, "starts_at": a.starts_at}
            for a in applied
        ],
    )
