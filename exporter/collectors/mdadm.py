"""mdadm: software RAID state from /proc/mdstat and /sys/block/md*/md, as node_exporter's mdadm.

The parsing follows prometheus/procfs (`MDStat`, `sysfs.Mdraids`) so the same file gives
the same numbers: disks counted from the status line, the sync line deciding the state.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, register
from exporter.families import Family, gauge
from exporter.procfs import read_text

_STATUS = re.compile(r"(\d+) blocks .*\[(\d+)/(\d+)\] \[([U_]+)\]")
_SYNCED = re.compile(r"\((\d+)/(\d+)\)")
# node_md_state's `state` label → the activity state procfs reports for it.
_STATES = (
    ("active", "active"),
    ("inactive", "inactive"),
    ("recovering", "recovering"),
    ("resync", "resyncing"),
    ("check", "checking"),
)
# Levels whose sysfs directory has a `degraded` file (procfs reads it only for these).
_REDUNDANT = frozenset({"raid1", "raid4", "raid5", "raid6", "raid10"})


@dataclass(frozen=True)
class MDStat:
    """One array of /proc/mdstat."""

    name: str
    state: str
    disks_active: int
    disks_total: int
    disks_failed: int
    disks_spare: int
    blocks_total: int
    blocks_synced: int


def _status(device_line: str, status_line: str) -> tuple[int, int, int]:
    """(active disks, total disks, size in blocks) from an array's first two lines."""
    fields = status_line.split()
    if not fields:
        raise ValueError(f"unexpected /proc/mdstat status line: {status_line!r}")
    size = int(fields[0])
    if "raid0" in device_line or "linear" in device_line:
        total = device_line.count("[")
        return total, total, size
    if "inactive" in device_line:
        return 0, 0, size
    match = _STATUS.search(status_line)
    if match is None:
        raise ValueError(f"unexpected /proc/mdstat status line: {status_line!r}")
    return int(match[3]), int(match[2]), size


def parse_mdstat(text: str) -> list[MDStat]:
    """The arrays of /proc/mdstat, as procfs parses them."""
    lines = text.split("\n")
    arrays: list[MDStat] = []
    for i, line in enumerate(lines):
        if not line.strip() or line[0] == " " or line.startswith(("unused", "Personalities")):
            continue
        fields = line.split()
        if len(fields) < 3:
            raise ValueError(f"unexpected /proc/mdstat line: {line!r}")
        if len(lines) <= i + 3:
            raise ValueError(f"too few lines for md device {fields[0]}")
        state = fields[2]
        active, total, size = _status(line, lines[i + 1])
        sync_index = i + 3 if "bitmap" in lines[i + 2] else i + 2
        sync_line = lines[sync_index]
        synced = size
        for word, activity in (
            ("recovery", "recovering"),
            ("reshape", "reshaping"),
            ("check", "checking"),
            ("resync", "resyncing"),
        ):
            if word in sync_line:
                state = activity
                if "PENDING" in sync_line or "DELAYED" in sync_line:
                    synced = 0
                else:
                    match = _SYNCED.search(sync_line)
                    if match is None:
                        raise ValueError(f"unexpected /proc/mdstat sync line: {sync_line!r}")
                    synced = int(match[1])
                break
        arrays.append(
            MDStat(
                name=fields[0],
                state=state,
                disks_active=active,
                disks_total=total,
                disks_failed=line.count("(F)"),
                disks_spare=line.count("(S)"),
                blocks_total=size,
                blocks_synced=synced,
            )
        )
    return arrays


@register
class MdadmCollector(Collector):
    """State, disks and sync progress of each md (software RAID) array."""

    name = "mdadm"
    description = "software RAID arrays from /proc/mdstat and /sys/block/md*/md"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._mdstat = str(self.paths.proc("mdstat"))
        self._block = str(self.paths.sys("block"))

    def collect(self) -> Iterable[Metric]:
        try:
            text = read_text(self._mdstat)
        except FileNotFoundError as exc:
            raise CollectorUnavailable(f"{self._mdstat} does not exist (no md driver)") from exc
        required = gauge("node_md_disks_required", "Total number of disks of device.", ["device"])
        disks = gauge(
            "node_md_disks", "Number of active/failed/spare disks of device.", ["device", "state"]
        )
        states = gauge("node_md_state", "Indicates the state of md-device.", ["device", "state"])
        blocks = gauge("node_md_blocks", "Total number of blocks on device.", ["device"])
        synced = gauge("node_md_blocks_synced", "Number of blocks synced on device.", ["device"])
        for md in parse_mdstat(text):
            device = (md.name,)
            required.values.append((device, float(md.disks_total)))
            disks.values.append(((md.name, "active"), float(md.disks_active)))
            disks.values.append(((md.name, "failed"), float(md.disks_failed)))
            disks.values.append(((md.name, "spare"), float(md.disks_spare)))
            for label, activity in _STATES:
                states.values.append(((md.name, label), 1.0 if md.state == activity else 0.0))
            blocks.values.append((device, float(md.blocks_total)))
            synced.values.append((device, float(md.blocks_synced)))
        yield from (f for f in (required, disks, states, blocks, synced) if f.values)
        yield from self._sysfs()

    def _sysfs(self) -> Iterable[Family]:
        raid_disks = gauge("node_md_raid_disks", "Number of raid disks on device.", ["device"])
        degraded = gauge("node_md_degraded", "Number of degraded disks on device.", ["device"])
        try:
            names = sorted(n for n in os.listdir(self._block) if n.startswith("md"))
        except FileNotFoundError:
            return
        for device in names:
            path = f"{self._block}/{device}/md"
            try:
                level = read_text(f"{path}/level").strip()
            except FileNotFoundError:
                continue  # an md* block device without the md directory is not an array
            if level not in ("", "container", "imsm", "ddf"):
                count = _raid_disks(read_text(f"{path}/raid_disks"))
                if count is not None:
                    raid_disks.values.append(((device,), float(count)))
            value = int(read_text(f"{path}/degraded")) if level in _REDUNDANT else 0
            degraded.values.append(((device,), float(value)))
        yield from (f for f in (raid_disks, degraded) if f.values)


def _raid_disks(content: str) -> int | None:
    """raid_disks: a count, or "current (previous)" while reshaping; None when empty."""
    first = content.strip().partition(" ")[0]
    return int(first) if first.isdigit() else None
