"""pressure: pressure stall information (PSI) totals from /proc/pressure."""

from __future__ import annotations

import errno
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, register
from exporter.families import counter
from exporter.procfs import read_text

# (resource, PSI line) → (metric, help). IRQ pressure has only a "full" line by design.
_METRICS = {
    ("cpu", "some"): (
        "node_pressure_cpu_waiting_seconds_total",
        "Total time in seconds that processes have waited for CPU time",
    ),
    ("io", "some"): (
        "node_pressure_io_waiting_seconds_total",
        "Total time in seconds that processes have waited due to IO congestion",
    ),
    ("io", "full"): (
        "node_pressure_io_stalled_seconds_total",
        "Total time in seconds no process could make progress due to IO congestion",
    ),
    ("memory", "some"): (
        "node_pressure_memory_waiting_seconds_total",
        "Total time in seconds that processes have waited for memory",
    ),
    ("memory", "full"): (
        "node_pressure_memory_stalled_seconds_total",
        "Total time in seconds no process could make progress due to memory congestion",
    ),
    ("irq", "full"): (
        "node_pressure_irq_stalled_seconds_total",
        "Total time in seconds no process could make progress due to IRQ congestion",
    ),
}
_REQUIRED = ("cpu", "io", "memory")


def parse_psi(text: str) -> dict[str, float]:
    """`some`/`full` → total stall time in seconds (the kernel counts microseconds)."""
    totals: dict[str, float] = {}
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        for field in rest.split():
            name, _, raw = field.partition("=")
            if name == "total":
                # Two divisions, as node_exporter does, so the floats match bit for bit.
                totals[kind] = int(raw) / 1000.0 / 1000.0
    return totals


@register
class PressureCollector(Collector):
    """Time tasks waited for (some) or were all stalled on (full) CPU, IO, memory, IRQ."""

    name = "pressure"
    description = "pressure stall information from /proc/pressure"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._files = [(r, str(self.paths.proc("pressure", r))) for r in (*_REQUIRED, "irq")]

    def collect(self) -> Iterable[Metric]:
        for resource, path in self._files:
            try:
                totals = parse_psi(read_text(path))
            except FileNotFoundError as exc:
                if resource == "irq":
                    continue  # only kernels >= 6.1 built with CONFIG_IRQ_TIME_ACCOUNTING
                raise CollectorUnavailable(
                    "pressure information needs Linux >= 4.20 with CONFIG_PSI"
                ) from exc
            except OSError as exc:
                if exc.errno == errno.EOPNOTSUPP:
                    raise CollectorUnavailable(
                        "pressure information is disabled; boot with psi=1"
                    ) from exc
                raise
            for kind, total in totals.items():
                metric = _METRICS.get((resource, kind))
                if metric is not None:
                    yield counter(metric[0], metric[1], value=total)
