"""Gauges read from the store at scrape time: outbox depth and age, dead letters, incidents."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from receiver.store.base import Tx
from receiver.store.sqlite import SqliteStore

STATES = ("firing", "acknowledged", "resolved")


class StoreCollector(Collector):
    """Queries the store on each scrape (cheap, indexed counts)."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if not self.store.is_open:
            return
        data = self.store.read_sync(_read)
        yield GaugeMetricFamily(
            "tocsin_receiver_outbox_pending",
            "Notifications stored and not yet delivered (pending or folded for a digest).",
            value=data.pending,
        )
        yield GaugeMetricFamily(
            "tocsin_receiver_outbox_oldest_age_seconds",
            "Age of the oldest undelivered notification (0 when none).",
            value=data.oldest_age,
        )
        yield GaugeMetricFamily(
            "tocsin_receiver_dead_letters",
            "Notifications that exhausted their attempts and await replay.",
            value=data.dead,
        )
        inc = GaugeMetricFamily(
            "tocsin_receiver_incidents", "Incidents by state.", labels=["state"]
        )
        for state in STATES:
            inc.add_metric([state], data.incidents.get(state, 0))
        yield inc


@dataclass
class _Figures:
    pending: float
    oldest_age: float
    dead: float
    incidents: dict[str, int]


def _read(tx: Tx) -> _Figures:
    pending = tx.one(
        "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM notifications"
        " WHERE state IN ('pending', 'folded')"
    )
    dead = tx.one("SELECT COUNT(*) AS n FROM notifications WHERE state = 'dead'")
    incidents = {
        r["state"]: r["n"]
        for r in tx.all("SELECT state, COUNT(*) AS n FROM incidents GROUP BY state")
    }
    oldest = pending["oldest"] if pending else None
    return _Figures(
        pending=pending["n"] if pending else 0,
        oldest_age=max(0.0, time.time() - oldest) if oldest else 0.0,
        dead=dead["n"] if dead else 0,
        incidents=incidents,
    )
