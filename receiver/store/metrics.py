"""Gauges read from the store at scrape time: inbox and outbox depth and age, webhooks
that failed processing, dead letters, incidents."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from receiver.store.base import Store, Tx

STATES = ("firing", "acknowledged", "resolved")


class StoreCollector(Collector):
    """Queries the store on each scrape (cheap, indexed counts)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The gauges, read in one read transaction; none while the store is closed."""
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
            "tocsin_receiver_inbox_pending",
            "Webhooks stored (answered 2xx) and not yet processed.",
            value=data.inbox_pending,
        )
        yield GaugeMetricFamily(
            "tocsin_receiver_inbox_oldest_age_seconds",
            "Age of the oldest stored, unprocessed webhook (0 when none).",
            value=data.inbox_oldest_age,
        )
        yield GaugeMetricFamily(
            "tocsin_receiver_webhooks_failed_processing",
            "Stored webhooks whose processing failed for a non-transient reason (state"
            " error); their alerts reached no incident.",
            value=data.failed_webhooks,
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
    inbox_pending: float
    inbox_oldest_age: float
    failed_webhooks: float


def _age(oldest: float | None) -> float:
    return max(0.0, time.time() - oldest) if oldest else 0.0


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
    # Waiting: intake rows the main database has not processed, and rows an older
    # version left `received` in the main database.
    inbox = tx.one(
        "SELECT COUNT(*) AS n, MIN(received_at) AS oldest FROM ("
        "SELECT received_at FROM webhooks WHERE state = 'received'"
        " UNION ALL SELECT i.received_at FROM intake.intake i"
        " WHERE NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = i.id)) AS waiting"
    )
    failed = tx.one("SELECT COUNT(*) AS n FROM webhooks WHERE state = 'error'")
    return _Figures(
        pending=pending["n"] if pending else 0,
        oldest_age=_age(pending["oldest"] if pending else None),
        dead=dead["n"] if dead else 0,
        incidents=incidents,
        inbox_pending=inbox["n"] if inbox else 0,
        inbox_oldest_age=_age(inbox["oldest"] if inbox else None),
        failed_webhooks=failed["n"] if failed else 0,
    )
