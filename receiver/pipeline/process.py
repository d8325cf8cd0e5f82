"""Apply one stored webhook to incidents, in the same transaction that stored it.

Dedup is keyed on (incident key, fingerprint, status, startsAt) in `alert_events`, so
Alertmanager repeats, HA duplicates and retried webhooks change nothing and notify
nobody; a firing event older than a stored resolution for the same startsAt is stale.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from receiver.metrics import ALERTS_RECEIVED, DUPLICATES
from receiver.model.payload import Alert, Payload
from receiver.model.snapshot import severity_of
from receiver.model.timeline import timeline
from receiver.outbox.create import enqueue, notified_channels
from receiver.pipeline import escalate, storm
from receiver.pipeline.context import Context
from receiver.pipeline.publish import publish_incident
from receiver.pipeline.routing import Target
from receiver.store.base import Row, Tx
from receiver.store.jsontext import dumps_labels, dumps_sorted


@dataclass
class Outcome:
    """What a webhook changed."""

    incident_id: int | None = None
    created: bool = False
    new_events: int = 0
    duplicates: int = 0
    notifications: list[int] = field(default_factory=list)


def incident_key(receiver: str, group_key: str) -> str:
    """Stable key of the (Alertmanager receiver, groupKey) pair."""
    return hashlib.sha256(f"{receiver}\x00{group_key}".encode()).hexdigest()[:32]


def process(tx: Tx, ctx: Context, payload: Payload, correlation_id: str, now: float) -> Outcome:
    """Upsert the incident, record new alert events, route and queue notifications."""
    out = Outcome()
    key = incident_key(payload.receiver, payload.group_key)
    firing_count = sum(1 for a in payload.alerts if a.status == "firing")
    ALERTS_RECEIVED.labels("firing").inc(firing_count)
    ALERTS_RECEIVED.labels("resolved").inc(len(payload.alerts) - firing_count)
    seen = _seen_events(tx, key)
    fresh = [a for a in _dedup_in_payload(payload.alerts) if _is_new(seen, a)]
    out.duplicates = len(payload.alerts) - len(fresh)
    inc = tx.one("SELECT id, state FROM incidents WHERE key = ? ORDER BY id DESC LIMIT 1", (key,))
    any_firing = any(a.status == "firing" for a in fresh)
    target: Target | None = None
    if inc is None or inc["state"] == "resolved":
        if any_firing:
            inc, target = _create(tx, ctx, key, payload, correlation_id, now)
            out.created = True
        elif inc is None:
            # Resolutions for a group we never saw firing (pruned, or before our time).
            out.duplicates += len(fresh)
            DUPLICATES.inc(out.duplicates)
            return out
    assert inc is not None
    incident_id = int(inc["id"])
    out.incident_id = incident_id
    applied = _apply(tx, key, incident_id, fresh, correlation_id, now, out.created)
    out.duplicates += len(fresh) - len(applied)
    out.new_events = len(applied)
    DUPLICATES.inc(out.duplicates)
    if target is not None:
        out.notifications += enqueue(
            tx, ctx, incident_id, target.channels, "firing", now, correlation_id=correlation_id
        )
        out.notifications += escalate.start(tx, ctx, incident_id, target.policies, now)
        publish_incident(tx, ctx, incident_id, "created")
        return out
    if not applied:
        return out
    tx.execute(
        "UPDATE incidents SET common_labels = ?, common_annotations = ?, external_url = ?,"
        " truncated_alerts = ?, updated_at = ? WHERE id = ?",
        (
            dumps_labels(payload.common_labels),
            dumps_labels(payload.common_annotations),
            payload.external_url,
            payload.truncated_alerts,
            now,
            incident_id,
        ),
    )
    if inc["state"] == "resolved":
        return out
    firing = tx.one(
        "SELECT COUNT(*) AS n FROM incident_alerts WHERE incident_id = ? AND status = 'firing'",
        (incident_id,),
    )
    if firing is not None and firing["n"] == 0:
        out.notifications += resolve(tx, ctx, incident_id, now, None, correlation_id)
    else:
        out.notifications += enqueue(
            tx,
            ctx,
            incident_id,
            notified_channels(tx, incident_id),
            "firing",
            now,
            correlation_id=correlation_id,
        )
        publish_incident(tx, ctx, incident_id, "updated")
    return out


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


def _dedup_in_payload(alerts: list[Alert]) -> list[Alert]:
    seen: dict[tuple[str, str, str], Alert] = {}
    for a in alerts:
        seen.setdefault((a.fingerprint, a.status, a.starts_at), a)
    return list(seen.values())


def _seen_events(tx: Tx, key: str) -> set[tuple[str, str, str]]:
    rows = tx.all(
        "SELECT fingerprint, status, starts_at FROM alert_events WHERE incident_key = ?", (key,)
    )
    return {(r["fingerprint"], r["status"], r["starts_at"]) for r in rows}


def _is_new(seen: set[tuple[str, str, str]], a: Alert) -> bool:
    if (a.fingerprint, a.status, a.starts_at) in seen:
        return False
    # A firing event is stale when the same startsAt has already resolved.
    return not (a.status == "firing" and (a.fingerprint, "resolved", a.starts_at) in seen)


def _create(
    tx: Tx, ctx: Context, key: str, p: Payload, correlation_id: str, now: float
) -> tuple[Row, Target]:
    """Insert a firing incident; returns its id and state, and where it routes."""
    severity = severity_of(p.common_labels, [a.labels for a in p.alerts])
    target = ctx.router.route({**p.common_labels, **p.group_labels})
    in_storm = severity != "critical" and storm.active(tx, ctx.config.storm, now)
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
            severity,
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
    return {"id": incident_id, "state": "firing"}, target


def _apply(
    tx: Tx,
    key: str,
    incident_id: int,
    fresh: list[Alert],
    correlation_id: str,
    now: float,
    created: bool,
) -> list[Alert]:
    """Record new alert events and upsert the incident's alerts; older startsAt are stale."""
    current: dict[str, float] = {}
    if not created:
        rows = tx.all(
            "SELECT fingerprint, starts_ts FROM incident_alerts WHERE incident_id = ?",
            (incident_id,),
        )
        current = {r["fingerprint"]: r["starts_ts"] for r in rows}
    applied = [a for a in fresh if current.get(a.fingerprint, float("-inf")) <= a.starts_ts]
    if not applied:
        return applied
    tx.executemany(
        "INSERT INTO alert_events (incident_key, fingerprint, status, starts_at, incident_id,"
        " received_at, correlation_id) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [
            (key, a.fingerprint, a.status, a.starts_at, incident_id, now, correlation_id)
            for a in applied
        ],
    )
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
    return applied
