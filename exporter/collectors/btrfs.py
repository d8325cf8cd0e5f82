"""btrfs: per-filesystem allocation and commit statistics from /sys/fs/btrfs, as node_exporter.

The sysfs part only: node_exporter adds per-device error counters and unused bytes from
BTRFS_IOC_GET_DEV_STATS ioctls on each mount point (root only), which this collector does
not make; see the README.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, register
from exporter.families import Family, counter, gauge
from exporter.procfs import read_text

SECTOR_SIZE = 512.0
BLOCK_GROUP_TYPES = ("data", "metadata", "system")
_COMMIT_FIELDS = ("commits", "last_commit_ms", "max_commit_ms", "total_commit_ms")


def allocation_ratio(layout: str, devices: int) -> float:
    """Bytes on disk per byte stored for a RAID profile (procfs's calcRatio)."""
    fixed = {"single": 1.0, "raid0": 1.0, "dup": 2.0, "raid1": 2.0, "raid10": 2.0}
    fixed |= {"raid1c3": 3.0, "raid1c4": 4.0}
    if layout in fixed:
        return fixed[layout]
    # A profile the kernel spreads parity over needs more devices than it has parity
    # stripes; with too few the Go division gives ±Inf or NaN, and so does this.
    parity = {"raid5": 1, "raid6": 2}.get(layout)
    if parity is None:
        return 0.0
    spare = devices - parity
    if spare == 0:
        return float("inf") if devices else float("nan")
    return devices / spare


def _value(path: str) -> float:
    """A sysfs number, 0 when the file is absent or not a number (as procfs reads them)."""
    try:
        return float(int(read_text(path).strip()))
    except (FileNotFoundError, ValueError):
        return 0.0


def parse_commit_stats(text: str) -> dict[str, float]:
    """commit_stats' `name value` lines."""
    stats = dict.fromkeys(_COMMIT_FIELDS, 0.0)
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 2:
            raise ValueError(f"invalid commit_stats line {line!r}")
        if parts[0] in stats:
            stats[parts[0]] = float(int(parts[1]))
    return stats


class _Families:
    """The collector's families, each made once and filled for every filesystem."""

    def __init__(self) -> None:
        self.info = gauge("node_btrfs_info", "Filesystem information", ["uuid", "label"])
        self.global_rsv = gauge(
            "node_btrfs_global_rsv_size_bytes", "Size of global reserve.", ["uuid"]
        )
        self.commits = counter(
            "node_btrfs_commits_total", "The total number of commits that have occurred.", ["uuid"]
        )
        self.last_commit = gauge(
            "node_btrfs_last_commit_seconds",
            "Duration of the most recent commit, in seconds.",
            ["uuid"],
        )
        self.max_commit = gauge(
            "node_btrfs_max_commit_seconds", "Duration of the slowest commit, in seconds.", ["uuid"]
        )
        self.commit_seconds = counter(
            "node_btrfs_commit_seconds_total",
            "Sum of the duration of all commits, in seconds.",
            ["uuid"],
        )
        self.reserved = gauge(
            "node_btrfs_reserved_bytes",
            "Amount of space reserved for a data type",
            ["uuid", "block_group_type"],
        )
        layout = ["uuid", "block_group_type", "mode"]
        self.used = gauge(
            "node_btrfs_used_bytes", "Amount of used space by a layout/data type", layout
        )
        self.size = gauge(
            "node_btrfs_size_bytes", "Amount of space allocated for a layout/data type", layout
        )
        self.ratio = gauge(
            "node_btrfs_allocation_ratio", "Data allocation ratio for a layout/data type", layout
        )
        self.device_size = gauge(
            "node_btrfs_device_size_bytes",
            "Size of a device that is part of the filesystem.",
            ["uuid", "device"],
        )

    def all(self) -> list[Family]:
        return [f for f in vars(self).values() if isinstance(f, Family) and f.values]


@register
class BtrfsCollector(Collector):
    """Label, global reserve, commits, space per block-group type and profile, device sizes."""

    name = "btrfs"
    description = "Btrfs statistics from /sys/fs/btrfs"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._root = str(self.paths.sys("fs/btrfs"))

    def collect(self) -> Iterable[Metric]:
        try:
            entries = sorted(os.listdir(self._root))
        except FileNotFoundError as exc:
            raise CollectorUnavailable(f"{self._root} does not exist (no Btrfs)") from exc
        families = _Families()
        # Filesystems are the UUID-named directories ("features" is not one).
        for entry in (e for e in entries if "-" in e):
            self._filesystem(families, f"{self._root}/{entry}", entry)
        yield from families.all()

    def _filesystem(self, f: _Families, path: str, entry: str) -> None:
        devices = sorted(os.listdir(f"{path}/devices"))
        try:
            uuid = read_text(f"{path}/metadata_uuid").strip()
        except FileNotFoundError:
            uuid = ""  # kernels before 5.0 have no metadata_uuid
        uuid = uuid or entry
        try:
            label = read_text(f"{path}/label").strip()
        except FileNotFoundError:
            label = ""
        f.info.add_metric([uuid, label], 1.0)
        f.global_rsv.add_metric([uuid], _value(f"{path}/allocation/global_rsv_size"))
        try:
            commits = parse_commit_stats(read_text(f"{path}/commit_stats"))
        except FileNotFoundError:
            commits = dict.fromkeys(_COMMIT_FIELDS, 0.0)  # kernels before 6.0
        f.commits.add_metric([uuid], commits["commits"])
        f.last_commit.add_metric([uuid], commits["last_commit_ms"] / 1000)
        f.max_commit.add_metric([uuid], commits["max_commit_ms"] / 1000)
        f.commit_seconds.add_metric([uuid], commits["total_commit_ms"] / 1000)
        for group in BLOCK_GROUP_TYPES:
            directory = f"{path}/allocation/{group}"
            f.reserved.add_metric([uuid, group], _value(f"{directory}/bytes_reserved"))
            for layout in sorted(os.listdir(directory)):
                if not os.path.isdir(f"{directory}/{layout}"):
                    continue
                labels = [uuid, group, layout]
                f.used.add_metric(labels, _value(f"{directory}/{layout}/used_bytes"))
                f.size.add_metric(labels, _value(f"{directory}/{layout}/total_bytes"))
                f.ratio.add_metric(labels, allocation_ratio(layout, len(devices)))
        for device in devices:
            size = _value(f"{path}/devices/{device}/size") * SECTOR_SIZE
            f.device_size.add_metric([uuid, device], size)
