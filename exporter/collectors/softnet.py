"""softnet: per-CPU packet processing counters from /proc/net/softnet_stat.

The file has one line of hexadecimal columns per CPU; kernels added columns over time
(received_rps in 2.6.39, flow_limit_count in 4.18, backlog length and CPU index in 5.14).
A column the kernel lacks is reported as 0, and the CPU is the line number before 5.14,
as node_exporter (procfs) does.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import Family, counter, gauge
from exporter.procfs import read_required

_MIN_COLUMNS = 9
# (family constructor, name, help, softnet_stat column) in the order node_exporter sends them.
_FAMILIES = (
    (counter, "node_softnet_processed_total", "Number of processed packets", 0),
    (counter, "node_softnet_dropped_total", "Number of dropped packets", 1),
    (
        counter,
        "node_softnet_times_squeezed_total",
        "Number of times processing packets ran out of quota",
        2,
    ),
    (
        counter,
        "node_softnet_cpu_collision_total",
        "Number of collision occur while obtaining device lock while transmitting",
        8,
    ),
    (counter, "node_softnet_received_rps_total", "Number of times cpu woken up received_rps", 9),
    (
        counter,
        "node_softnet_flow_limit_count_total",
        "Number of times flow limit has been reached",
        10,
    ),
    (gauge, "node_softnet_backlog_len", "Softnet backlog status", 11),
)


def parse_softnet(text: str) -> list[tuple[str, list[int]]]:
    """(cpu, columns as integers, missing ones 0) per line of softnet_stat."""
    rows = []
    for number, line in enumerate(text.splitlines()):
        columns = line.split()
        if not columns:
            continue
        if len(columns) < _MIN_COLUMNS:
            raise ValueError(f"softnet_stat line {number + 1} has {len(columns)} columns")
        values = [int(c, 16) for c in columns]
        cpu = str(values[12]) if len(values) >= 13 else str(number)
        values.extend([0] * (13 - len(values)))
        rows.append((cpu, values))
    return rows


@register
class SoftnetCollector(Collector):
    """Packets processed and dropped, and time squeezes, per CPU."""

    name = "softnet"
    description = "per-CPU network softirq statistics from /proc/net/softnet_stat"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._path = str(self.paths.proc("net/softnet_stat"))

    def collect(self) -> Iterable[Metric]:
        rows = parse_softnet(read_required(self._path))
        for make, name, documentation, column in _FAMILIES:
            family: Family = make(name, documentation, ["cpu"])
            family.values.extend(((cpu,), float(values[column])) for cpu, values in rows)
            yield family
