"""watchdog: hardware watchdog timers from /sys/class/watchdog."""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import gauge
from exporter.sysattr import go_int, list_dir, read_attr

# Numeric attribute → metric suffix, in node_exporter's order.
_NUMBERS = (
    ("bootstatus", "bootstatus"),
    ("fw_version", "fw_version"),
    ("nowayout", "nowayout"),
    ("timeleft", "timeleft_seconds"),
    ("timeout", "timeout_seconds"),
    ("pretimeout", "pretimeout_seconds"),
    ("access_cs0", "access_cs0"),
)
_INFO = ("options", "identity", "state", "status", "pretimeout_governor")


@register
class WatchdogCollector(Collector):
    """Timeout, time left, boot status and identity per watchdog device."""

    name = "watchdog"
    description = "watchdog devices from /sys/class/watchdog"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._dir = str(self.paths.sys("class/watchdog"))

    def collect(self) -> Iterable[Metric]:
        numbers = {
            file: gauge(
                f"node_watchdog_{suffix}",
                f"Value of /sys/class/watchdog/<watchdog>/{file}",
                ["name"],
            )
            for file, suffix in _NUMBERS
        }
        info = gauge(
            "node_watchdog_info", "Info of /sys/class/watchdog/<watchdog>", ["name", *_INFO]
        )
        for device in list_dir(self._dir):
            path = os.path.join(self._dir, device)
            for file, _ in _NUMBERS:
                raw = read_attr(f"{path}/{file}")
                if raw is not None:
                    numbers[file].values.append(((device,), float(go_int(raw))))
            texts = tuple(read_attr(f"{path}/{file}") or "" for file in _INFO)
            info.values.append(((device, *texts), 1.0))
        yield from (family for family in numbers.values() if family.values)
        if info.values:
            yield info
