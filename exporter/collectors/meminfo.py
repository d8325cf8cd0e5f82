"""meminfo: every /proc/meminfo field as node_memory_<Field>[_bytes], as node_exporter."""

from __future__ import annotations

import re
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, register
from exporter.collectors._procfs import read_required

_PARENS = re.compile(r"\((.*)\)")


def parse_meminfo(text: str) -> dict[str, float]:
    """Metric-name suffix → value: `Active(anon): 4 kB` → `Active_anon_bytes` = 4096."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        key = _PARENS.sub(r"_\1", parts[0].rstrip(":"))
        value = float(parts[1])
        if len(parts) == 3:
            # Every field with a unit is in kB (KiB); HugePages_* are plain counts.
            values[key + "_bytes"] = value * 1024
        else:
            values[key] = value
    return values


@register
class MeminfoCollector(Collector):
    """Memory statistics, one gauge per /proc/meminfo field."""

    name = "meminfo"
    description = "memory statistics from /proc/meminfo"

    def collect(self) -> Iterable[Metric]:
        for key, value in parse_meminfo(read_required(self.paths.proc("meminfo"))).items():
            yield GaugeMetricFamily(
                f"node_memory_{key}", f"Memory information field {key}.", value=value
            )
