"""entropy: the kernel's available entropy and pool size, as node_exporter's entropy."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import gauge
from exporter.procfs import read_required


@register
class EntropyCollector(Collector):
    """Bits of entropy available in, and the size of, the kernel's random pool."""

    name = "entropy"
    description = "available entropy from /proc/sys/kernel/random"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._avail = str(self.paths.proc("sys/kernel/random/entropy_avail"))
        self._poolsize = str(self.paths.proc("sys/kernel/random/poolsize"))

    def collect(self) -> Iterable[Metric]:
        yield gauge(
            "node_entropy_available_bits",
            "Bits of available entropy.",
            value=float(read_required(self._avail)),
        )
        yield gauge(
            "node_entropy_pool_size_bits",
            "Bits of entropy pool.",
            value=float(read_required(self._poolsize)),
        )
