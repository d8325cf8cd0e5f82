"""Stage dedup: keep only the alert copies that change an alert's episode.

An alert is (group, fingerprint) plus its firing episode (`receiver.pipeline.episodes`):
Alertmanager repeats, HA pairs holding different `startsAt` for one alert, retried
webhooks and lagging copies of a resolved alert change nothing and notify nobody; a copy
that starts after the stored resolution is a re-fire and does.
"""

from __future__ import annotations

from receiver.metrics import DUPLICATES
from receiver.model.payload import Alert
from receiver.pipeline import episodes
from receiver.pipeline.context import Context
from receiver.pipeline.work import Webhook
from receiver.store.base import Tx


def drop_seen(tx: Tx, ctx: Context, w: Webhook) -> bool:
    """Keep the new copies and decide whether a new incident opens; stop when nothing is
    left to do (only repeats, or resolutions for a group we never saw firing)."""
    out = w.outcome
    alerts = w.payload.alerts
    known = episodes.load(tx, w.key)
    w.applied = [
        a for a in _one_per_alert(alerts) if episodes.is_new(known.get(a.fingerprint), a, w.now)
    ]
    out.duplicates = len(alerts) - len(w.applied)
    inc = w.incident
    if inc is None or inc["state"] == "resolved":
        if any(a.status == "firing" for a in w.applied):
            w.opens = True
        elif inc is None:
            # Resolutions for a group we never saw firing (pruned, or before our time).
            out.duplicates += len(w.applied)
            w.applied = []
            DUPLICATES.inc(out.duplicates)
            return False
    if not w.opens:
        out.incident_id = w.incident_id
    out.new_events = len(w.applied)
    DUPLICATES.inc(out.duplicates)
    return w.opens or bool(w.applied)


def _one_per_alert(alerts: list[Alert]) -> list[Alert]:
    # Alertmanager sends each alert once per webhook; should a sender repeat one, its
    # first copy stands (a second would be judged against an episode not yet stored).
    seen: dict[str, Alert] = {}
    for a in alerts:
        seen.setdefault(a.fingerprint, a)
    return list(seen.values())
