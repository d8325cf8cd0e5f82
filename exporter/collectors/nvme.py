"""nvme: NVMe controllers and their namespaces from /sys/class/nvme."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import Family, gauge
from exporter.sysattr import list_dir, read_attr

_NAMESPACE = re.compile(r"nvme\d+n(\d+)")
_DEVICE_FILES = ("firmware_rev", "model", "serial", "state", "cntlid")
# Per-namespace gauges: (metric, help); values are blocks times the logical block size.
_SIZES = (
    (
        "node_nvme_namespace_capacity_bytes",
        "Capacity of the NVMe namespace in bytes. Computed as namespace_size * "
        "namespace_logical_block_size",
    ),
    (
        "node_nvme_namespace_size_bytes",
        "Size of the NVMe namespace in bytes. Available in "
        "/sys/class/nvme/<device>/<namespace>/size",
    ),
    (
        "node_nvme_namespace_used_bytes",
        "Used space of the NVMe namespace in bytes. Available in "
        "/sys/class/nvme/<device>/<namespace>/nuse",
    ),
    (
        "node_nvme_namespace_logical_block_size_bytes",
        "Logical block size of the NVMe namespace in bytes. Usually 4Kb. Available in "
        "/sys/class/nvme/<device>/<namespace>/queue/logical_block_size",
    ),
)


def _uint(path: str) -> int:
    """A required attribute; a value that is not a number counts as 0, as procfs."""
    raw = read_attr(path, frozenset()) or ""
    return int(raw) if raw.isdigit() else 0


@register
class NvmeCollector(Collector):
    """Identity and state per NVMe controller; size, use and block size per namespace."""

    name = "nvme"
    description = "NVMe controllers and namespaces from /sys/class/nvme"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._dir = str(self.paths.sys("class/nvme"))

    def collect(self) -> Iterable[Metric]:
        info = gauge(
            "node_nvme_info",
            "Non-numeric data from /sys/class/nvme/<device>, value is always 1.",
            ["device", "firmware_revision", "model", "serial", "state", "cntlid"],
        )
        namespaces = gauge(
            "node_nvme_namespace_info",
            "Information about NVMe namespaces. Value is always 1",
            ["device", "nsid", "ana_state"],
        )
        sizes = [gauge(metric, text, ["device", "nsid"]) for metric, text in _SIZES]
        for device in list_dir(self._dir):
            path = os.path.join(self._dir, device)
            texts = tuple(read_attr(f"{path}/{f}", frozenset()) or "" for f in _DEVICE_FILES)
            info.values.append(((device, *texts), 1.0))
            for entry in sorted(os.listdir(path)):
                match = _NAMESPACE.search(entry)
                if match is not None:
                    self._namespace(f"{path}/{entry}", (device, match[1]), namespaces, sizes)
        if info.values:
            yield info
        if namespaces.values:
            yield namespaces
            yield from sizes

    @staticmethod
    def _namespace(path: str, labels: tuple[str, str], info: Family, sizes: list[Family]) -> None:
        used = _uint(f"{path}/nuse")
        blocks = _uint(f"{path}/size")
        block_size = _uint(f"{path}/queue/logical_block_size")
        ana_state = read_attr(f"{path}/ana_state")
        info.values.append(((*labels, "unknown" if ana_state is None else ana_state), 1.0))
        values = (blocks * block_size, blocks * block_size, used * block_size, block_size)
        for family, value in zip(sizes, values, strict=True):
            family.values.append((labels, float(value)))
