"""stat: boot time, context switches, forks, interrupts and process states from /proc/stat."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import counter, gauge
from exporter.procfs import read_required

# /proc/stat key → (metric, help, counter?)
_FIELDS = {
    "intr": ("node_intr_total", "Total number of interrupts serviced.", True),
    "ctxt": ("node_context_switches_total", "Total number of context switches.", True),
    "btime": ("node_boot_time_seconds", "Node boot time, in unixtime.", False),
    "processes": ("node_forks_total", "Total number of forks.", True),
    "procs_running": ("node_procs_running", "Number of processes in runnable state.", False),
    "procs_blocked": (
        "node_procs_blocked",
        "Number of processes blocked waiting for I/O to complete.",
        False,
    ),
}


@register
class StatCollector(Collector):
    """Kernel-wide counters from /proc/stat."""

    name = "stat"
    description = "boot time, context switches, forks, interrupts from /proc/stat"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._stat = str(self.paths.proc("stat"))

    def collect(self) -> Iterable[Metric]:
        # Shared with `cpu` within a collection: one read of /proc/stat for both.
        for line in self.ctx.reads.read(self._stat, read_required).splitlines():
            key, _, rest = line.partition(" ")
            field = _FIELDS.get(key)
            if field is None:
                continue
            metric, help_text, is_counter = field
            # `intr` is a total followed by per-interrupt counts; only the total is exported.
            value = float(rest.split(None, 1)[0])
            if is_counter:
                yield counter(metric, help_text, value=value)
            else:
                yield gauge(metric, help_text, value=value)
