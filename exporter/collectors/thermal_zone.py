"""thermal_zone: zone temperatures and cooling device states from /sys/class/thermal."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import gauge
from exporter.procfs import read_text
from exporter.sysattr import QUIET_ERRNOS, list_dir, read_attr

# A cooling device whose attributes cannot be read is skipped, as procfs's canIgnoreError.
_SKIP_DEVICE = QUIET_ERRNOS | {errno.EACCES, errno.EPERM}


@register
class ThermalZoneCollector(Collector):
    """Temperature per thermal zone; current and maximum state per cooling device."""

    name = "thermal_zone"
    description = "thermal zone temperatures and cooling devices from /sys/class/thermal"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._dir = str(self.paths.sys("class/thermal"))

    def collect(self) -> Iterable[Metric]:
        entries = list_dir(self._dir)
        temp = gauge("node_thermal_zone_temp", "Zone temperature in Celsius", ["zone", "type"])
        cur = gauge(
            "node_cooling_device_cur_state",
            "Current throttle state of the cooling device",
            ["name", "type"],
        )
        top = gauge(
            "node_cooling_device_max_state",
            "Maximum throttle state of the cooling device",
            ["name", "type"],
        )
        for entry in entries:
            path = os.path.join(self._dir, entry)
            zone = _suffix(entry, "thermal_zone")
            if zone is not None:
                # procfs keeps a zone whose reads fail (a switched-off sensor answers
                # EINVAL), reporting temperature 0.
                kind = _lenient(f"{path}/type")
                raw = _lenient(f"{path}/temp")
                millidegrees = int(raw) if raw.lstrip("-").isdigit() else 0
                temp.values.append(((zone, kind), millidegrees / 1000.0))
                continue
            device = _suffix(entry, "cooling_device")
            if device is None:
                continue
            try:
                kind = read_attr(f"{path}/type", frozenset()) or ""
                maximum = int(read_attr(f"{path}/max_state", frozenset()) or "")
                current = int(read_attr(f"{path}/cur_state", frozenset()) or "")
            except OSError as exc:
                if exc.errno in _SKIP_DEVICE:
                    continue
                raise
            cur.values.append(((device, kind), float(current)))
            top.values.append(((device, kind), float(maximum)))
        for family in (temp, cur, top):
            if family.values:
                yield family


def _suffix(entry: str, prefix: str) -> str | None:
    """The number after `prefix` (the glob `prefix[0-9]*`), or None for another entry."""
    if entry.startswith(prefix) and entry[len(prefix) : len(prefix) + 1].isdigit():
        return entry[len(prefix) :]
    return None


def _lenient(path: str) -> str:
    """The attribute's text, or empty when it cannot be read."""
    try:
        return read_text(path).strip()
    except OSError:
        return ""
