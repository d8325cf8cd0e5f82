"""MTTA/MTTR: observe an incident's time to first acknowledgement and to resolution.

Observed once a transaction that made the transition commits, so a rolled-back action
counts nothing and an incident restored from the store after a restart is not observed
again: only a transition this process commits is.
"""

from __future__ import annotations

import json

from prometheus_client import Histogram

from receiver.config import RouteConfig
from receiver.metrics import TIME_TO_ACKNOWLEDGE, TIME_TO_RESOLVE
from receiver.pipeline.router import Router
from receiver.store.base import Row, Tx

# Severity is a label of the alert and so unbounded; these keep their own series.
SEVERITIES = frozenset({"critical", "warning", "info"})


def severity_label(severity: str) -> str:
    """The severity as the histograms label it: one of SEVERITIES, else `other`."""
    return severity if severity in SEVERITIES else "other"


def route_label(row: Row) -> str:
    """Where the route sent the incident: its escalation policies and channels, comma-joined.
    Bounded by the config, since every route names a fixed set of them."""
    names = [*json.loads(row["route_policies"]), *json.loads(row["route_channels"])]
    return ",".join(names) or "none"


def _configured_route_label(route: RouteConfig) -> str:
    """The `route` label of an incident that this route alone sent on."""
    return ",".join([*([route.escalation] if route.escalation else []), *route.channels]) or "none"


def prepare(router: Router) -> None:
    """Create every severity's series for every configured route at zero, at start and on
    reload: Prometheus 2.x's `increase()` cannot see a series' first sample as an increase,
    so a series born at count 1 would hide that incident from the MTTA/MTTR rules. (Routes
    combined by `continue` make their series on first use.)"""
    for route in [*(r for _, r in router.routes), router.default]:
        label = _configured_route_label(route)
        for severity in (*sorted(SEVERITIES), "other"):
            TIME_TO_ACKNOWLEDGE.labels(severity, label)
            TIME_TO_RESOLVE.labels(severity, label)


def _incident(tx: Tx, incident_id: int) -> Row | None:
    return tx.one(
        "SELECT state, severity, route_channels, route_policies, created_at FROM incidents"
        " WHERE id = ?",
        (incident_id,),
    )


def _observe_after_commit(tx: Tx, histogram: Histogram, row: Row, now: float) -> None:
    child = histogram.labels(severity_label(row["severity"]), route_label(row))
    elapsed = max(0.0, now - float(row["created_at"]))
    tx.after_commit(lambda: child.observe(elapsed))


def acknowledged(tx: Tx, incident_id: int, now: float) -> None:
    """Call before the `acknowledged` timeline entry is written: observes the time to
    acknowledge unless the incident was acknowledged before (and unacknowledged since)."""
    row = _incident(tx, incident_id)
    earlier = tx.one(
        "SELECT id FROM timeline WHERE incident_id = ? AND event = 'acknowledged' LIMIT 1",
        (incident_id,),
    )
    if row is not None and earlier is None:
        _observe_after_commit(tx, TIME_TO_ACKNOWLEDGE, row, now)


def resolved(tx: Tx, incident_id: int, now: float) -> None:
    """Call before the incident is marked resolved: observes the time to resolve unless it
    already was resolved."""
    row = _incident(tx, incident_id)
    if row is not None and row["state"] != "resolved":
        _observe_after_commit(tx, TIME_TO_RESOLVE, row, now)
