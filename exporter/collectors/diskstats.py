"""diskstats: per-block-device I/O counters from /proc/diskstats, as node_exporter.

Times are converted from milliseconds to seconds and sectors to bytes at the kernel's
fixed 512-byte unit. Device identity comes from udev's database when it is readable.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.devicefilter import DeviceFilter
from exporter.families import Family
from exporter.procfs import read_required, read_text

DEFAULT_DEVICE_EXCLUDE = r"^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$"
UDEV_DATA = "/run/udev/data"
# "standard UNIX 512-byte sectors, not any device- or filesystem-specific block size"
UNIX_SECTOR_SIZE = 512.0
SECONDS_PER_TICK = 0.001

# One entry per /proc/diskstats value column, in kernel order: (suffix, help, factor, counter).
_COLUMNS = (
    ("reads_completed_total", "The total number of reads completed successfully.", 1.0, True),
    ("reads_merged_total", "The total number of reads merged.", 1.0, True),
    ("read_bytes_total", "The total number of bytes read successfully.", UNIX_SECTOR_SIZE, True),
    (
        "read_time_seconds_total",
        "The total number of seconds spent by all reads.",
        SECONDS_PER_TICK,
        True,
    ),
    ("writes_completed_total", "The total number of writes completed successfully.", 1.0, True),
    ("writes_merged_total", "The number of writes merged.", 1.0, True),
    (
        "written_bytes_total",
        "The total number of bytes written successfully.",
        UNIX_SECTOR_SIZE,
        True,
    ),
    (
        "write_time_seconds_total",
        "This is the total number of seconds spent by all writes.",
        SECONDS_PER_TICK,
        True,
    ),
    ("io_now", "The number of I/Os currently in progress.", 1.0, False),
    ("io_time_seconds_total", "Total seconds spent doing I/Os.", SECONDS_PER_TICK, True),
    (
        "io_time_weighted_seconds_total",
        "The weighted # of seconds spent doing I/Os.",
        SECONDS_PER_TICK,
        True,
    ),
    (
        "discards_completed_total",
        "The total number of discards completed successfully.",
        1.0,
        True,
    ),
    ("discards_merged_total", "The total number of discards merged.", 1.0, True),
    ("discarded_sectors_total", "The total number of sectors discarded successfully.", 1.0, True),
    (
        "discard_time_seconds_total",
        "This is the total number of seconds spent by all discards.",
        SECONDS_PER_TICK,
        True,
    ),
    (
        "flush_requests_total",
        "The total number of flush requests completed successfully",
        1.0,
        True,
    ),
    (
        "flush_requests_time_seconds_total",
        "This is the total number of seconds spent by all flush requests.",
        SECONDS_PER_TICK,
        True,
    ),
)
_INFO_LABELS = [
    "device",
    "major",
    "minor",
    "path",
    "wwn",
    "model",
    "serial",
    "revision",
    "rotational",
]
_ATA = (
    ("ID_ATA_WRITE_CACHE", "ata_write_cache", "ATA disk has a write cache."),
    (
        "ID_ATA_WRITE_CACHE_ENABLED",
        "ata_write_cache_enabled",
        "ATA disk has its write cache enabled.",
    ),
    (
        "ID_ATA_ROTATION_RATE_RPM",
        "ata_rotation_rate_rpm",
        "ATA disk rotation rate in RPMs (0 for SSDs).",
    ),
)

_DEVICE_EXCLUDE = re.compile(DEFAULT_DEVICE_EXCLUDE)


@dataclass
class DiskstatsConfig:
    """`collectors.diskstats`: which block devices to report (include wins over exclude)."""

    device_include: re.Pattern[str] | None = None
    device_exclude: re.Pattern[str] | None = _DEVICE_EXCLUDE


def parse_udev(text: str) -> dict[str, str]:
    """Device properties (`E:KEY=value` lines) from a udev database entry."""
    info: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("E:"):
            key, sep, value = line[2:].partition("=")
            if sep:
                info[key] = value
    return info


class _Families:
    """Metric families created on first use, so none is sent without samples."""

    def __init__(self) -> None:
        self.by_name: dict[str, Family] = {}

    def add(
        self,
        suffix: str,
        help_text: str,
        labels: list[str],
        values: list[str],
        value: float,
        counter: bool = False,
    ) -> None:
        family = self.by_name.get(suffix)
        if family is None:
            name = f"node_disk_{suffix}"
            typ = "counter" if counter else "gauge"
            family = self.by_name[suffix] = Family(name, help_text, typ, labels)
        family.add_metric(values, value)


@register
class DiskstatsCollector(Collector):
    """Reads, writes, bytes, time, in-flight I/O, discards and flushes per block device."""

    name = "diskstats"
    description = "block device I/O statistics from /proc/diskstats"
    Config = DiskstatsConfig
    config: DiskstatsConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._filter = DeviceFilter.build(self.config.device_include, self.config.device_exclude)
        udev = self.paths.root(UDEV_DATA)
        self._udev = str(udev) if udev.is_dir() else None
        self._lock = threading.Lock()
        self._rotational: dict[str, str] = {}
        self._diskstats = str(self.paths.proc("diskstats"))

    def _udev_info(self, major: str, minor: str) -> dict[str, str]:
        if self._udev is None:
            return {}
        try:
            return parse_udev(read_text(f"{self._udev}/b{major}:{minor}"))
        except OSError:
            return {}

    def _is_rotational(self, device: str) -> str:
        # Whether a device spins cannot change while it exists: read it once.
        with self._lock:
            cached = self._rotational.get(device)
        if cached is None:
            try:
                cached = str(int(read_text(self.paths.sys("block", device, "queue/rotational"))))
            except (OSError, ValueError):
                cached = "0"
            with self._lock:
                self._rotational[device] = cached
        return cached

    def _slaves(self, device: str) -> list[str]:
        try:
            return sorted(os.listdir(self.paths.sys("block", device, "slaves")))
        except OSError:
            return []

    def collect(self) -> Iterable[Metric]:
        families = _Families()
        seen: set[str] = set()
        for line in read_required(self._diskstats).splitlines():
            parts = line.split()
            if len(parts) < 4:
                continue
            major, minor, device = parts[0], parts[1], parts[2]
            if self._filter.ignored(device):
                continue
            seen.add(device)
            info = self._udev_info(major, minor)
            # The serial printed on the disk label, else udev's short or full serial.
            serial = info.get("SCSI_IDENT_SERIAL") or info.get("ID_SERIAL_SHORT") or ""
            serial = serial or info.get("ID_SERIAL", "")
            info_values = [
                device,
                major,
                minor,
                info.get("ID_PATH", ""),
                info.get("ID_WWN", ""),
                info.get("ID_MODEL", ""),
                serial,
                info.get("ID_REVISION", ""),
                self._is_rotational(device),
            ]
            families.add("info", "Info of /sys/block/<block_device>.", _INFO_LABELS, info_values, 1)
            # Older kernels have 11 columns, 4.18+ add discards (15), 5.5+ flushes (17).
            for (suffix, help_text, factor, counter), raw in zip(_COLUMNS, parts[3:], strict=False):
                families.add(suffix, help_text, ["device"], [device], int(raw) * factor, counter)
            self._udev_metrics(families, device, info)
        with self._lock:
            for gone in set(self._rotational) - seen:
                del self._rotational[gone]
        yield from families.by_name.values()

    def _udev_metrics(self, families: _Families, device: str, info: dict[str, str]) -> None:
        fs_type = info.get("ID_FS_TYPE", "")
        if fs_type:
            families.add(
                "filesystem_info",
                "Info about disk filesystem.",
                ["device", "type", "usage", "uuid", "version"],
                [
                    device,
                    fs_type,
                    info.get("ID_FS_USAGE", ""),
                    info.get("ID_FS_UUID", ""),
                    info.get("ID_FS_VERSION", ""),
                ],
                1.0,
            )
        dm_name = info.get("DM_NAME", "")
        if dm_name:
            families.add(
                "device_mapper_info",
                "Info about disk device mapper.",
                ["device", "name", "uuid", "vg_name", "lv_name", "lv_layer"],
                [
                    device,
                    dm_name,
                    info.get("DM_UUID", ""),
                    info.get("DM_VG_NAME", ""),
                    info.get("DM_LV_NAME", ""),
                    info.get("DM_LV_LAYER", ""),
                ],
                1.0,
            )
            for backing in self._slaves(device):
                families.add(
                    "device_mapper_backing_device_info",
                    "Info about the underlying block devices of a device mapper device.",
                    ["device", "backing_device"],
                    [device, backing],
                    1.0,
                )
        if info.get("ID_ATA"):
            for key, suffix, help_text in _ATA:
                try:
                    value = float(info[key])
                except (KeyError, ValueError):
                    continue
                families.add(suffix, help_text, ["device"], [device], value)
