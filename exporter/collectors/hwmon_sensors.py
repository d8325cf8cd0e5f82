"""One hwmon sensor's attributes as node_exporter's metrics: names, units, HELP text.

hwmon attribute files are `<type><number>_<property>` (`temp1_input`, `fan2_min`); the
kernel's units (millidegrees, millivolts, microwatts, ...) become base units here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from exporter.families import Family, counter, gauge

SENSOR_TYPES = frozenset(
    {
        "vrm",
        "beep_enable",
        "update_interval",
        "in",
        "cpu",
        "fan",
        "pwm",
        "temp",
        "curr",
        "power",
        "energy",
        "humidity",
        "intrusion",
        "freq",
    }
)
_FILENAME = re.compile(r"^(?P<type>[^0-9]+)(?P<id>[0-9]*)?(_(?P<property>.+))?$")
_INVALID = re.compile(r"[^a-z0-9:_]")
_LABELS = ("chip", "sensor")
_POWER_INTERVALS = frozenset({"average_interval", "average_interval_min", "average_interval_max"})
_FAN_RPM = frozenset({"input", "min", "max", "target"})


class Families:
    """The collection's families by name, made on first use (first HELP text wins)."""

    def __init__(self) -> None:
        self._by_name: dict[str, Family] = {}

    def gauge(self, name: str, text: str, labels: tuple[str, ...] = _LABELS) -> Family:
        """The gauge family called `name`, created on first use."""
        family = self._by_name.get(name)
        if family is None:
            family = self._by_name[name] = gauge(name, text, labels)
        return family

    def counter(self, name: str, text: str) -> Family:
        """The counter family called `name`, created on first use."""
        family = self._by_name.get(name)
        if family is None:
            family = self._by_name[name] = counter(name, text, _LABELS)
        return family

    def sorted(self) -> Iterable[Family]:
        """The families by name, as node_exporter's registry sorts them."""
        return [self._by_name[name] for name in sorted(self._by_name)]


def explode(filename: str) -> tuple[str, int, str] | None:
    """(type, number, property) of an attribute file name; None when it does not parse."""
    match = _FILENAME.match(filename)
    if match is None:
        return None
    number = match["id"]
    return match["type"], int(number) if number else 0, match["property"] or ""


def _clean(name: str) -> str:
    return _INVALID.sub("_", name.lower()).strip("_")


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def report_sensor(families: Families, chip: str, sensor: str, data: dict[str, str]) -> None:
    """Add one sensor's metrics (`sensor` is `<type><number>`, `data` property → text)."""
    parts = explode(sensor)
    kind = parts[0] if parts is not None else sensor
    labels = (chip, sensor)
    if "label" in data:
        families.gauge(
            "node_hwmon_sensor_label",
            "Label for given chip and sensor",
            ("chip", "sensor", "label"),
        ).values.append(((chip, sensor, data["label"]), 1.0))
    if kind == "beep_enable":
        value = 1.0 if data.get("") == "1" else 0.0
        families.gauge("node_hwmon_beep_enabled", "Hardware beep enabled").values.append(
            (labels, value)
        )
        return
    if kind in ("vrm", "update_interval"):
        parsed = _float(data.get("", ""))
        if parsed is not None:
            if kind == "vrm":
                name, text = "node_hwmon_voltage_regulator_version", "Hardware voltage regulator"
            else:
                name, text = (
                    "node_hwmon_update_interval_seconds",
                    "Hardware monitor update interval",
                )
                parsed *= 0.001
            families.gauge(name, text).values.append((labels, parsed))
        return
    for element in sorted(data):
        if element != "label":
            _element(families, kind, labels, element, data)


def _element(
    families: Families, kind: str, labels: tuple[str, str], element: str, data: dict[str, str]
) -> None:
    name = f"node_hwmon_{kind}"
    if element == "input":
        if "" in data:
            name += "_input"
    elif element:
        name += "_" + _clean(element)
    value = _float(data[element])
    if value is None:
        return
    add = _adder(families, labels)
    if element in ("fault", "alarm"):
        add(name, f"Hardware sensor {element} status ({kind})", value)
    elif element == "beep":
        add(name + "_enabled", "Hardware monitor sensor has beeping enabled", value)
    elif kind in ("in", "cpu"):
        add(name + "_volts", f"Hardware monitor for voltage ({element})", value * 0.001)
    elif kind == "temp" and element != "type":
        shown = element or "input"
        add(name + "_celsius", f"Hardware monitor for temperature ({shown})", value * 0.001)
    elif kind == "curr":
        add(name + "_amps", f"Hardware monitor for current ({element})", value * 0.001)
    elif kind == "energy":
        families.counter(
            name + "_joule_total", f"Hardware monitor for joules used so far ({element})"
        ).values.append((labels, value / 1000000.0))
    elif kind == "power" and element == "accuracy":
        add(name, "Hardware monitor power meter accuracy, as a ratio", value / 1000000.0)
    elif kind == "power" and element in _POWER_INTERVALS:
        add(
            name + "_seconds",
            f"Hardware monitor power usage update interval ({element})",
            value * 0.001,
        )
    elif kind == "power":
        add(name + "_watt", f"Hardware monitor for power usage in watts ({element})", value / 1e6)
    elif kind == "humidity":
        add(
            name,
            "Hardware monitor for humidity, as a ratio (multiply with 100.0 to get the "
            f"humidity as a percentage) ({element})",
            value / 1000000.0,
        )
    elif kind == "fan" and element in _FAN_RPM:
        add(name + "_rpm", f"Hardware monitor for fan revolutions per minute ({element})", value)
    elif kind == "freq" and element == "input":
        # GPU clocks: the sensor label takes the sensor's place, as in node_exporter.
        if "label" in data:
            families.gauge(
                name + "_freq_mhz", "Hardware monitor for GPU frequency in MHz"
            ).values.append(((labels[0], _clean(data["label"])), value / 1000000.0))
    else:
        add(name, f"Hardware monitor {kind} element {element}", value)


def _adder(families: Families, labels: tuple[str, str]) -> Callable[[str, str, float], None]:
    def add(name: str, text: str, value: float) -> None:
        families.gauge(name, text).values.append((labels, value))

    return add
