"""dmi: firmware, board, chassis and product identity from /sys/class/dmi/id."""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, register
from exporter.families import Family, gauge
from exporter.procfs import read_text
from exporter.sysattr import list_dir

# sysfs file → label; chassis_type is read by procfs but not reported.
_LABELS = {
    "bios_date": "bios_date",
    "bios_release": "bios_release",
    "bios_vendor": "bios_vendor",
    "bios_version": "bios_version",
    "board_asset_tag": "board_asset_tag",
    "board_name": "board_name",
    "board_serial": "board_serial",
    "board_vendor": "board_vendor",
    "board_version": "board_version",
    "chassis_asset_tag": "chassis_asset_tag",
    "chassis_serial": "chassis_serial",
    "chassis_vendor": "chassis_vendor",
    "chassis_version": "chassis_version",
    "product_family": "product_family",
    "product_name": "product_name",
    "product_serial": "product_serial",
    "product_sku": "product_sku",
    "product_uuid": "product_uuid",
    "product_version": "product_version",
    "sys_vendor": "system_vendor",
}
_HELP = (
    "A metric with a constant '1' value labeled by bios_date, bios_release, bios_vendor, "
    "bios_version, board_asset_tag, board_name, board_serial, board_vendor, board_version, "
    "chassis_asset_tag, chassis_serial, chassis_vendor, chassis_version, product_family, "
    "product_name, product_serial, product_sku, product_uuid, product_version, system_vendor "
    "if provided by DMI."
)


@register
class DmiCollector(Collector):
    """One info series labelled with the DMI strings; read once, as they change only at boot."""

    name = "dmi"
    description = "DMI (SMBIOS) identity from /sys/class/dmi/id"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._dir = str(self.paths.sys("class/dmi/id"))
        self._family: Family | None = None

    def collect(self) -> Iterable[Metric]:
        if self._family is None:
            self._family = self._read()
        yield self._family

    def _read(self) -> Family:
        values: dict[str, str] = {}
        for name in list_dir(self._dir):
            label = _LABELS.get(name)
            path = os.path.join(self._dir, name)
            if label is None or not os.path.isfile(path):
                continue
            try:
                values[label] = read_text(path).strip()
            except PermissionError:
                continue  # the serials and product_uuid are root-only
        if not values:
            raise CollectorUnavailable(f"{self._dir} holds no DMI strings")
        names = sorted(values)
        family = gauge("node_dmi_info", _HELP, names)
        family.values.append((tuple(values[n] for n in names), 1.0))
        return family.freeze()
