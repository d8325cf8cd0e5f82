"""arp: neighbour (ARP) table entries per device, from /proc/net/arp.

node_exporter >= 1.8 asks the kernel over netlink and leaves out NOARP neighbours by
default; /proc/net/arp lists the same IPv4 neighbours without the NOARP ones, so both
count the same entries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.devicefilter import DeviceFilter
from exporter.families import gauge
from exporter.procfs import read_required

_DATA_COLUMNS = 6
_HEADER_COLUMNS = 9


@dataclass
class ArpConfig:
    """`collectors.arp`: which devices to report (include wins over exclude)."""

    device_include: re.Pattern[str] | None = None
    device_exclude: re.Pattern[str] | None = None


def count_arp_entries(text: str) -> dict[str, int]:
    """Device → number of entries in /proc/net/arp, in first-seen order."""
    counts: dict[str, int] = {}
    for line in text.splitlines():
        columns = line.split()
        if len(columns) in (0, _HEADER_COLUMNS):
            continue
        if len(columns) != _DATA_COLUMNS:
            raise ValueError(f"unexpected /proc/net/arp line: {line}")
        counts[columns[5]] = counts.get(columns[5], 0) + 1
    return counts


@register
class ArpCollector(Collector):
    """Number of ARP entries per network device."""

    name = "arp"
    description = "ARP table entries from /proc/net/arp"
    Config = ArpConfig
    config: ArpConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._filter = DeviceFilter.build(self.config.device_include, self.config.device_exclude)
        self._path = str(self.paths.proc("net/arp"))

    def collect(self) -> Iterable[Metric]:
        family = gauge("node_arp_entries", "ARP entries by device", ["device"])
        for device, count in count_arp_entries(read_required(self._path)).items():
            if not self._filter.ignored(device):
                family.values.append(((device,), float(count)))
        yield family
