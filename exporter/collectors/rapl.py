"""rapl: RAPL energy counters (package, core, uncore, dram, psys) from /sys/class/powercap."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, register
from exporter.families import Family, counter
from exporter.procfs import read_text
from exporter.sysattr import list_dir, read_attr, sanitize_metric_name


@dataclass
class RaplConfig:
    """`collectors.rapl` (node_exporter: --collector.rapl.enable-zone-label)."""

    enable_zone_label: bool = False


def zone_index(name: str, used: dict[str, int]) -> tuple[int, str]:
    """(index, name) as procfs: `package-1` → (1, package); a repeated `dram` counts up."""
    base, sep, number = name.partition("-")
    if sep and "-" not in number and number.lstrip("+-").isdigit():
        return int(number), base
    return used.get(name, 0), name


@register
class RaplCollector(Collector):
    """Energy used so far per RAPL zone, in joules."""

    name = "rapl"
    description = "RAPL energy counters from /sys/class/powercap"
    Config = RaplConfig
    config: RaplConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._dir = str(self.paths.sys("class/powercap"))

    def collect(self) -> Iterable[Metric]:
        try:
            entries = list_dir(self._dir)
        except PermissionError as exc:
            raise CollectorUnavailable(f"{self._dir} is not readable") from exc
        used: dict[str, int] = {}
        families: dict[str, Family] = {}
        for entry in entries:
            path = os.path.join(self._dir, entry)
            try:
                raw_name = read_text(f"{path}/name").strip()
            except OSError:
                continue  # the control type directory (intel-rapl) has no name
            index, zone = zone_index(raw_name, used)
            used[zone] = index + 1
            # procfs requires the range file even though node_exporter does not report it.
            int(read_attr(f"{path}/max_energy_range_uj", frozenset()) or "")
            try:
                energy = int(read_attr(f"{path}/energy_uj", frozenset()) or "")
            except PermissionError as exc:
                # Linux >= 5.10 makes energy_uj root-only (CVE-2020-8694).
                raise CollectorUnavailable(f"{path}/energy_uj is not readable") from exc
            joules = energy / 1000000.0
            if self.config.enable_zone_label:
                key = ""
                labels: tuple[str, ...] = (str(index), path, zone)
            else:
                key = sanitize_metric_name(zone)
                labels = (str(index), path)
            family = families.get(key)
            if family is None:
                family = families[key] = self._family(key, zone)
            family.values.append((labels, joules))
        yield from families.values()

    def _family(self, key: str, zone: str) -> Family:
        if self.config.enable_zone_label:
            return counter(
                "node_rapl_joules_total",
                "Current RAPL value in joules",
                ["index", "path", "rapl_zone"],
            )
        return counter(
            f"node_rapl_{key}_joules_total",
            f"Current RAPL {zone} value in joules",
            ["index", "path"],
        )
