"""netdev: per-interface network counters from /proc/net/dev, as node_exporter's netdev."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.devicefilter import DeviceFilter
from exporter.families import Family, counter
from exporter.procfs import read_required, read_text


@dataclass
class NetdevConfig:
    """`collectors.netdev`: which interfaces to report (include wins over exclude)."""

    device_include: re.Pattern[str] | None = None
    device_exclude: re.Pattern[str] | None = None


def parse_net_dev(text: str) -> dict[str, dict[str, float]]:
    """Interface → `receive_bytes`, `transmit_packets`, ... as /proc/net/dev's header names."""
    lines = text.splitlines()
    if len(lines) < 2 or lines[1].count("|") != 2:
        raise ValueError(f"unexpected /proc/net/dev header: {lines[1] if len(lines) > 1 else ''}")
    _, receive, transmit = lines[1].split("|")
    names = [f"receive_{n}" for n in receive.split()] + [f"transmit_{n}" for n in transmit.split()]
    stats: dict[str, dict[str, float]] = {}
    for line in lines[2:]:
        device, sep, rest = line.partition(":")
        if not sep:
            continue
        values = rest.split()
        if len(values) != len(names):
            raise ValueError(f"unexpected /proc/net/dev line: {line}")
        stats[device.strip()] = {n: float(v) for n, v in zip(names, values, strict=True)}
    return stats


@register
class NetdevCollector(Collector):
    """Bytes, packets, errors and drops per network interface."""

    name = "netdev"
    description = "network interface statistics from /proc/net/dev"
    Config = NetdevConfig
    config: NetdevConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._filter = DeviceFilter.build(self.config.device_include, self.config.device_exclude)
        self._net_dev = str(self.paths.proc("net/dev"))
        self._sys_net = str(self.paths.sys("class/net"))

    def _nohandler(self, device: str) -> float | None:
        # node_exporter's default netlink source also carries rx_nohandler, which
        # /proc/net/dev lacks; sysfs has it.
        try:
            return float(read_text(f"{self._sys_net}/{device}/statistics/rx_nohandler"))
        except (OSError, ValueError):
            return None

    def collect(self) -> Iterable[Metric]:
        stats = parse_net_dev(read_required(self._net_dev))
        families: dict[str, Family] = {}
        for device, fields in stats.items():
            if self._filter.ignored(device):
                continue
            nohandler = self._nohandler(device)
            if nohandler is not None:
                fields["receive_nohandler"] = nohandler
            labels = (device,)
            for key, value in fields.items():
                family = families.get(key)
                if family is None:
                    family = families[key] = counter(
                        f"node_network_{key}_total",
                        f"Network device statistic {key}.",
                        labels=["device"],
                    )
                family.values.append((labels, value))
        yield from families.values()
