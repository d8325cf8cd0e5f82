"""bonding: configured and active slaves per bonding master, as node_exporter's bonding."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import gauge
from exporter.procfs import read_required, read_text


@register
class BondingCollector(Collector):
    """Slave counts of Linux bonding interfaces from /sys/class/net/<master>/bonding."""

    name = "bonding"
    description = "bonding interface slaves from /sys/class/net"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._root = str(self.paths.sys("class/net"))

    def _mii_status(self, master: str, slave: str) -> str:
        try:
            return read_text(f"{self._root}/{master}/lower_{slave}/bonding_slave/mii_status")
        except FileNotFoundError:
            # Older kernels name the link slave_<name> (node_exporter falls back the same way).
            return read_text(f"{self._root}/{master}/slave_{slave}/bonding_slave/mii_status")

    def collect(self) -> Iterable[Metric]:
        masters = read_required(f"{self._root}/bonding_masters").split()
        slaves = gauge(
            "node_bonding_slaves", "Number of configured slaves per bonding interface.", ["master"]
        )
        active = gauge(
            "node_bonding_active", "Number of active slaves per bonding interface.", ["master"]
        )
        for master in masters:
            names = read_text(f"{self._root}/{master}/bonding/slaves").split()
            up = sum(1 for s in names if self._mii_status(master, s).strip() == "up")
            slaves.values.append(((master,), float(len(names))))
            active.values.append(((master,), float(up)))
        if masters:
            yield slaves
            yield active
