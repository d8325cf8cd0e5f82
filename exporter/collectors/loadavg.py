"""loadavg: node_load1/5/15 from /proc/loadavg."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import gauge
from exporter.procfs import read_required


@register
class LoadavgCollector(Collector):
    """The 1, 5 and 15 minute load averages."""

    name = "loadavg"
    description = "load averages from /proc/loadavg"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._loadavg = str(self.paths.proc("loadavg"))

    def collect(self) -> Iterable[Metric]:
        parts = read_required(self._loadavg).split()
        for minutes, raw in zip(("1", "5", "15"), parts[:3], strict=True):
            yield gauge(f"node_load{minutes}", f"{minutes}m load average.", value=float(raw))
