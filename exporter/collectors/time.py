"""time: system clock, time zone offset and clock sources, as node_exporter's time collector."""

from __future__ import annotations

import time
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import gauge
from exporter.procfs import read_text


@register
class TimeCollector(Collector):
    """The current time, the local zone's offset and the kernel's clock sources."""

    name = "time"
    description = "system time, time zone and clock sources"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        # Clock source devices are fixed at boot; which source is current is read per scrape.
        self._clocksources_files = [
            (
                path.name.removeprefix("clocksource"),
                str(path / "available_clocksource"),
                str(path / "current_clocksource"),
            )
            for path in sorted(
                self.paths.sys("devices/system/clocksource").glob("clocksource[0-9]*")
            )
        ]

    def collect(self) -> Iterable[Metric]:
        now = time.time()
        yield gauge("node_time_seconds", "System time in seconds since epoch (1970).", value=now)
        local = time.localtime(now)
        zone = gauge(
            "node_time_zone_offset_seconds",
            "System time zone offset in seconds.",
            labels=["time_zone"],
        )
        zone.add_metric([local.tm_zone], float(local.tm_gmtoff))
        yield zone
        yield from self._clocksources()

    def _clocksources(self) -> Iterable[Metric]:
        available = gauge(
            "node_time_clocksource_available_info",
            "Available clocksources read from '/sys/devices/system/clocksource'.",
            labels=["clocksource", "device"],
        )
        current = gauge(
            "node_time_clocksource_current_info",
            "Current clocksource read from '/sys/devices/system/clocksource'.",
            labels=["clocksource", "device"],
        )
        for device, available_path, current_path in self._clocksources_files:
            try:
                sources = read_text(available_path).split()
                active = read_text(current_path).strip()
            except OSError:
                continue
            for source in sources:
                available.add_metric([source, device], 1.0)
            current.add_metric([active, device], 1.0)
        yield from (family for family in (available, current) if family.values)
