"""Small collectors for the exporter's scrape and server tests: one that works, one that fails."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from exporter.collector import Collector


class Static(Collector):
    """Always yields one gauge, `test_static_value 7`."""

    name = "static"

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily("test_static_value", "A constant.", value=7)


class Boom(Collector):
    """Yields one family and then raises, so a partial result must be thrown away."""

    name = "boom"

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily("test_boom_partial", "Emitted before the failure.", value=1)
        raise RuntimeError("disk on fire")
