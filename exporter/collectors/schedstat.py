"""schedstat: per-CPU scheduler time from /proc/schedstat, as node_exporter.

Each `cpu<N>` line ends with the time tasks ran and waited on that CPU (nanoseconds)
and the number of timeslices run (schedstat versions 15 to 17 agree on these columns);
the file is absent on kernels built without CONFIG_SCHEDSTATS.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import counter
from exporter.procfs import read_required

NANOSECONDS = 1e9
_CPU_COLUMNS = 10


def parse_schedstat(text: str) -> list[tuple[str, int, int, int]]:
    """(cpu, running ns, waiting ns, timeslices) per `cpu<N>` line."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("cpu"):
            continue
        columns = line.split()
        if len(columns) < _CPU_COLUMNS:
            raise ValueError(f"unexpected /proc/schedstat line: {line}")
        rows.append((columns[0][3:], int(columns[7]), int(columns[8]), int(columns[9])))
    return rows


@register
class SchedstatCollector(Collector):
    """Seconds each CPU ran tasks and tasks waited for it, and timeslices run."""

    name = "schedstat"
    description = "scheduler statistics from /proc/schedstat"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._path = str(self.paths.proc("schedstat"))

    def collect(self) -> Iterable[Metric]:
        rows = parse_schedstat(read_required(self._path))
        running = counter(
            "node_schedstat_running_seconds_total",
            "Number of seconds CPU spent running a process.",
            ["cpu"],
        )
        waiting = counter(
            "node_schedstat_waiting_seconds_total",
            "Number of seconds spent by processing waiting for this CPU.",
            ["cpu"],
        )
        slices = counter(
            "node_schedstat_timeslices_total", "Number of timeslices executed by CPU.", ["cpu"]
        )
        for cpu, run_ns, wait_ns, timeslices in rows:
            running.values.append(((cpu,), run_ns / NANOSECONDS))
            waiting.values.append(((cpu,), wait_ns / NANOSECONDS))
            slices.values.append(((cpu,), float(timeslices)))
        yield running
        yield waiting
        yield slices
