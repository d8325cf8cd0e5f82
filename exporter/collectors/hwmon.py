"""hwmon: temperatures, voltages, fans, power and more from /sys/class/hwmon (lm-sensors).

Chips are named from their stable device path (`platform_coretemp_0`), not the unstable
hwmonN number; sensor files are read once per collection, with one raw read each since
some broken drivers answer EAGAIN forever to a retrying reader.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.collectors.hwmon_sensors import SENSOR_TYPES, Families, explode, report_sensor
from exporter.devicefilter import DeviceFilter
from exporter.sysattr import list_dir

_INVALID = re.compile(r"[^a-z0-9:_]")


@dataclass
class HwmonConfig:
    """`collectors.hwmon` (node_exporter: --collector.hwmon.chip-include/-exclude,
    --collector.hwmon.sensor-include/-exclude). Sensors match as `<chip>;<sensor>`."""

    chip_include: re.Pattern[str] | None = None
    chip_exclude: re.Pattern[str] | None = None
    sensor_include: re.Pattern[str] | None = None
    sensor_exclude: re.Pattern[str] | None = None


def clean_name(name: str) -> str:
    """node_exporter's cleanMetricName: lower case, invalid characters as `_`, trimmed."""
    return _INVALID.sub("_", name.lower()).strip("_")


def _read_raw(path: str) -> str | None:
    # One read of at most 128 bytes, as node_exporter's sysReadFile.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        return os.read(fd, 128).decode("utf-8", errors="replace")
    except OSError:
        return None
    finally:
        os.close(fd)


def _sensor_data(directory: str, data: dict[str, dict[str, str]]) -> None:
    with os.scandir(directory) as entries:
        names = [e.name for e in entries]
    for filename in names:
        parts = explode(filename)
        if parts is None or parts[0] not in SENSOR_TYPES:
            continue
        kind, number, prop = parts
        raw = _read_raw(os.path.join(directory, filename))
        if raw is not None:
            data.setdefault(f"{kind}{number}", {})[prop] = raw.strip("\n")


def chip_name(directory: str) -> str | None:
    """The stable chip name: `<bus>_<device>` from the device link, else `name`, else hwmonN."""
    device = os.path.join(directory, "device")
    if os.path.exists(device):
        real = os.path.realpath(device)
        dev_name = clean_name(os.path.basename(real))
        dev_type = clean_name(os.path.basename(os.path.dirname(real)))
        if dev_type and dev_name:
            return f"{dev_type}_{dev_name}"
        if dev_name:
            return dev_name
    try:
        with open(os.path.join(directory, "name"), encoding="utf-8", errors="replace") as f:
            named = clean_name(f.read())
    except OSError:
        named = ""
    if named:
        return named
    return clean_name(os.path.basename(os.path.realpath(directory))) or None


def _names(directory: str) -> tuple[str, str] | None:
    """(stable chip name, name file) of a hwmon directory; None when it has no name."""
    base = chip_name(directory)
    if base is None:
        return None
    try:
        with open(os.path.join(directory, "name"), encoding="utf-8") as f:
            return base, f.read().strip()
    except OSError:
        return base, ""


@register
class HwmonCollector(Collector):
    """Every hwmon sensor, with node_exporter's metric names and units."""

    name = "hwmon"
    description = "hardware sensors from /sys/class/hwmon"
    Config = HwmonConfig
    config: HwmonConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._dir = str(self.paths.sys("class/hwmon"))
        self._chips = DeviceFilter.build(self.config.chip_include, self.config.chip_exclude)
        self._sensors = DeviceFilter.build(self.config.sensor_include, self.config.sensor_exclude)
        self._named: dict[str, tuple[str, str]] = {}

    def _entries(self) -> list[tuple[str, str, str]]:
        """(directory, base name, name file) per chip, in directory order."""
        found = []
        # A chip's names depend only on the device its class link points to, so they are
        # kept per link target: resolving the device path costs a dozen lstat calls.
        known, self._named = self._named, {}
        for entry in list_dir(self._dir):
            directory = os.path.join(self._dir, entry)
            try:
                target = os.readlink(directory)
            except OSError:
                target = ""  # a real directory (not a link) is named afresh each time
            names = known.get(target) if target else None
            if names is None:
                if not os.path.isdir(directory):
                    continue
                names = _names(directory)
                if names is None:
                    continue
            if target:
                self._named[target] = names
            found.append((directory, *names))
        return found

    def collect(self) -> Iterable[Metric]:
        entries = self._entries()
        # Several hwmon nodes may share one parent device (asus-nb-wmi): disambiguate by
        # the name file when that tells them apart, else by hwmonN, as node_exporter does.
        bases: dict[str, int] = {}
        pairs: dict[tuple[str, str], int] = {}
        for _, base, name_file in entries:
            bases[base] = bases.get(base, 0) + 1
            pairs[(base, name_file)] = pairs.get((base, name_file), 0) + 1
        families = Families()
        for directory, base, name_file in entries:
            chip = base
            if bases[base] > 1:
                suffix = clean_name(name_file)
                if not suffix or pairs[(base, name_file)] > 1:
                    suffix = clean_name(os.path.basename(directory))
                chip = f"{base}_{suffix}"
            if self._chips.ignored(chip):
                continue
            self._chip(families, directory, chip, name_file)
        yield from families.sorted()

    def _chip(self, families: Families, directory: str, chip: str, name_file: str) -> None:
        data: dict[str, dict[str, str]] = {}
        _sensor_data(directory, data)
        device = os.path.join(directory, "device")
        if os.path.isdir(device):
            # Kernels before 3.x (and some drivers still) keep the attributes there.
            _sensor_data(device, data)
        readable = clean_name(name_file)
        if readable:
            families.gauge(
                "node_hwmon_chip_names",
                "Annotation metric for human-readable chip names",
                ("chip", "chip_name"),
            ).values.append(((chip, readable), 1.0))
        for sensor in sorted(data):
            if not self._sensors.ignored(f"{chip};{sensor}"):
                report_sensor(families, chip, sensor, data[sensor])
