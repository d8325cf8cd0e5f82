"""powersupplyclass: batteries, mains and USB supplies from /sys/class/power_supply."""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import Family, gauge
from exporter.sysattr import QUIET_ERRNOS, go_int, list_dir, read_attr

# sysfs file → (metric suffix, divisor), in node_exporter's three groups: plain values,
# micro-units (µA, µV, µWh, µW) and tenths of a degree Celsius.
_NUMBERS = {
    **{
        f: (m, 1.0)
        for f, m in (
            ("authentic", "authentic"),
            ("calibrate", "calibrate"),
            ("capacity", "capacity"),
            ("capacity_alert_max", "capacity_alert_max"),
            ("capacity_alert_min", "capacity_alert_min"),
            ("cycle_count", "cyclecount"),
            ("online", "online"),
            ("present", "present"),
            ("time_to_empty_now", "time_to_empty_seconds"),
            ("time_to_full_now", "time_to_full_seconds"),
        )
    },
    **{
        f: (m, 1e6)
        for f, m in (
            ("current_boot", "current_boot"),
            ("current_max", "current_max"),
            ("current_now", "current_ampere"),
            ("energy_empty", "energy_empty"),
            ("energy_empty_design", "energy_empty_design"),
            ("energy_full", "energy_full"),
            ("energy_full_design", "energy_full_design"),
            ("energy_now", "energy_watthour"),
            ("voltage_boot", "voltage_boot"),
            ("voltage_max", "voltage_max"),
            ("voltage_max_design", "voltage_max_design"),
            ("voltage_min", "voltage_min"),
            ("voltage_min_design", "voltage_min_design"),
            ("voltage_now", "voltage_volt"),
            ("voltage_ocv", "voltage_ocv"),
            ("charge_control_limit", "charge_control_limit"),
            ("charge_control_limit_max", "charge_control_limit_max"),
            ("charge_counter", "charge_counter"),
            ("charge_empty", "charge_empty"),
            ("charge_empty_design", "charge_empty_design"),
            ("charge_full", "charge_full"),
            ("charge_full_design", "charge_full_design"),
            ("charge_now", "charge_ampere"),
            ("charge_term_current", "charge_term_current"),
            ("constant_charge_current", "constant_charge_current"),
            ("constant_charge_current_max", "constant_charge_current_max"),
            ("constant_charge_voltage", "constant_charge_voltage"),
            ("constant_charge_voltage_max", "constant_charge_voltage_max"),
            ("precharge_current", "precharge_current"),
            ("input_current_limit", "input_current_limit"),
            ("power_now", "power_watt"),
        )
    },
    **{
        f: (f"{f}_celsius", 10.0)
        for f in (
            "temp",
            "temp_alert_max",
            "temp_alert_min",
            "temp_ambient",
            "temp_ambient_max",
            "temp_ambient_min",
            "temp_max",
            "temp_min",
        )
    },
}
# Numeric files procfs parses but node_exporter does not export; still validated.
_PARSED_ONLY = frozenset(
    {
        "charge_avg",
        "current_avg",
        "energy_avg",
        "power_avg",
        "time_to_empty_avg",
        "time_to_full_avg",
        "voltage_avg",
    }
)
# sysfs file → info label.
_TEXTS = {
    "capacity_level": "capacity_level",
    "charge_type": "charge_type",
    "health": "health",
    "manufacturer": "manufacturer",
    "model_name": "model_name",
    "serial_number": "serial_number",
    "status": "status",
    "technology": "technology",
    "type": "type",
    "usb_type": "usb_type",
    "scope": "scope",
}
_QUIET = QUIET_ERRNOS | {errno.ENODATA}


@dataclass
class PowerSupplyClassConfig:
    """`collectors.powersupplyclass` (node_exporter: --collector.powersupply.ignored-supplies)."""

    ignored_supplies: re.Pattern[str] = re.compile("^$")


@register
class PowerSupplyClassCollector(Collector):
    """Per supply: charge, energy, voltage, current, temperature values and an info series."""

    name = "powersupplyclass"
    description = "power supply (battery, AC, USB) state from /sys/class/power_supply"
    Config = PowerSupplyClassConfig
    config: PowerSupplyClassConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._dir = str(self.paths.sys("class/power_supply"))

    def collect(self) -> Iterable[Metric]:
        families: dict[str, Family] = {}
        info = GaugeMetricFamily(
            "node_power_supply_info", "info of /sys/class/power_supply/<power_supply>."
        )
        for supply in list_dir(self._dir):
            if self.config.ignored_supplies.search(supply):
                continue
            numbers, labels = self._read_supply(os.path.join(self._dir, supply))
            for file, (suffix, divisor) in _NUMBERS.items():
                value = numbers.get(file)
                if value is None:
                    continue
                family = families.get(suffix)
                if family is None:
                    family = families[suffix] = gauge(
                        f"node_power_supply_{suffix}",
                        f"{suffix} value of /sys/class/power_supply/<power_supply>.",
                        ["power_supply"],
                    )
                family.values.append(((supply,), value / divisor))
            labels["power_supply"] = supply
            info.add_sample("node_power_supply_info", dict(sorted(labels.items())), 1.0)
        yield from (families[name] for name in sorted(families))
        if info.samples:
            yield info

    def _read_supply(self, path: str) -> tuple[dict[str, int], dict[str, str]]:
        numbers: dict[str, int] = {}
        labels: dict[str, str] = {}
        with os.scandir(path) as entries:
            names = [e.name for e in entries if e.is_file(follow_symlinks=False)]
        for name in names:
            numeric = name in _NUMBERS or name in _PARSED_ONLY
            if not numeric and name not in _TEXTS:
                continue
            value = read_attr(os.path.join(path, name), _QUIET)
            if value is None:
                continue
            if numeric:
                # A value that is not a number fails the collection, as in procfs.
                numbers[name] = go_int(value)
            elif value:
                labels[_TEXTS[name]] = value
        return numbers, labels
