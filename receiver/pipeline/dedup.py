"""Stage dedup: keep only alert events not seen before.

Dedup is keyed on (incident key, fingerprint, status, startsAt) in `alert_events`, so
Alertmanager repeats, HA duplicates and retried webhooks change nothing and notify
nobody; a firing event older than a stored resolution for the same startsAt is stale,
and so is an event whose startsAt is older than that of the incident's current alert.
"""

from __future__ import annotations

from receiver.metrics import DUPLICATES
from receiver.model.payload import Alert
from receiver.pipeline.context import Context
from receiver.pipeline.work import Webhook
from receiver.store.base import Tx


def drop_seen(tx: Tx, ctx: Context, w: Webhook) -> bool:
    """Keep the new events and decide whether a new incident opens; stop when nothing is
    left to do (only repeats, or resolutions for a group we never saw firing)."""
    out = w.outcome
    alerts = w.payload.alerts
    seen = _seen_events(tx, w.key)
    w.fresh = [a for a in _dedup_in_payload(alerts) if _is_new(seen, a)]
    out.duplicates = len(alerts) - len(w.fresh)
    inc = w.incident
    if inc is None or inc["state"] == "resolved":
        if any(a.status == "firing" for a in w.fresh):
            w.opens = True
        elif inc is None:
            # Resolutions for a group we never saw firing (pruned, or before our time).
            out.duplicates += len(w.fresh)
            DUPLICATES.inc(out.duplicates)
            return False
    if w.opens:
        w.applied = w.fresh
    else:
        out.incident_id = w.incident_id
        w.applied = _not_older(tx, w.incident_id, w.fresh)
    out.duplicates += len(w.fresh) - len(w.applied)
    out.new_events = len(w.applied)
    DUPLICATES.inc(out.duplicates)
    return w.opens or bool(w.applied)


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


def _not_older(tx: Tx, incident_id: int, fresh: list[Alert]) -> list[Alert]:
    """The events whose startsAt is not older than the incident's current alert's."""
    rows = tx.all(
        "SELECT fingerprint, starts_ts FROM incident_alerts WHERE incident_id = ?",
        (incident_id,),
    )
    current: dict[str, float] = {r["fingerprint"]: r["starts_ts"] for r in rows}
    return [a for a in fresh if current.get(a.fingerprint, float("-inf")) <= a.starts_ts]
