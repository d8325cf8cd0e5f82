"""tapestats: SCSI tape drive I/O statistics from /sys/class/scsi_tape, as node_exporter.

Only the `st<N>` entries are read: the kernel lists each drive again under its other
modes (`nst0`, `st0a`, `st0l`, ...), with the same counters.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, register
from exporter.families import Family
from exporter.procfs import read_text
from exporter.sysattr import parse_uint

_DRIVE = re.compile(r"^st\d+$")
_NS = 0.000000001
# (stats file, metric suffix, type, scale, HELP) in node_exporter's order.
_STATS = (
    (
        "in_flight",
        "io_now",
        "gauge",
        1.0,
        "The number of I/Os currently outstanding to this device.",
    ),
    (
        "io_ns",
        "io_time_seconds_total",
        "counter",
        _NS,
        "The amount of time spent waiting for all I/O to complete (including read and write). "
        "This includes tape movement commands such as seeking between file or set marks and "
        "implicit tape movement such as when rewind on close tape devices are used.",
    ),
    (
        "other_cnt",
        "io_others_total",
        "counter",
        1.0,
        "The number of I/Os issued to the tape drive other than read or write commands. The "
        "time taken to complete these commands uses the following calculation "
        "io_time_seconds_total-read_time_seconds_total-write_time_seconds_total",
    ),
    (
        "read_byte_cnt",
        "read_bytes_total",
        "counter",
        1.0,
        "The number of bytes read from the tape drive.",
    ),
    (
        "read_cnt",
        "reads_completed_total",
        "counter",
        1.0,
        "The number of read requests issued to the tape drive.",
    ),
    (
        "read_ns",
        "read_time_seconds_total",
        "counter",
        _NS,
        "The amount of time spent waiting for read requests to complete.",
    ),
    (
        "resid_cnt",
        "residual_total",
        "counter",
        1.0,
        "The number of times during a read or write we found the residual amount to be "
        "non-zero. This should mean that a program is issuing a read larger thean the block "
        "size on tape. For write not all data made it to tape.",
    ),
    (
        "write_byte_cnt",
        "written_bytes_total",
        "counter",
        1.0,
        "The number of bytes written to the tape drive.",
    ),
    (
        "write_cnt",
        "writes_completed_total",
        "counter",
        1.0,
        "The number of write requests issued to the tape drive.",
    ),
    (
        "write_ns",
        "write_time_seconds_total",
        "counter",
        _NS,
        "The amount of time spent waiting for write requests to complete.",
    ),
)


@dataclass
class TapestatsConfig:
    """`collectors.tapestats`: node_exporter's `--collector.tapestats.*` flags."""

    # --collector.tapestats.ignored-devices (node_exporter's default "^$" ignores nothing)
    ignored_devices: re.Pattern[str] | None = None


def _stat(path: str) -> int:
    text = read_text(path).strip()
    value = parse_uint(text)
    if value is None:
        raise ValueError(f"{path}: not a counter: {text!r}")
    return value


@register
class TapestatsCollector(Collector):
    """Reads, writes, bytes, time and in-flight I/O per SCSI tape drive."""

    name = "tapestats"
    description = "SCSI tape drive statistics from /sys/class/scsi_tape"
    Config = TapestatsConfig
    config: TapestatsConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._root = str(self.paths.sys("class/scsi_tape"))
        pattern = self.config.ignored_devices
        self._ignored = pattern if pattern is not None and pattern.pattern else None

    def collect(self) -> Iterable[Metric]:
        try:
            entries = sorted(os.listdir(self._root))
        except FileNotFoundError as exc:
            raise CollectorUnavailable(f"{self._root} does not exist") from exc
        families = [
            Family(f"node_tape_{suffix}", help_text, typ, ("device",))
            for _, suffix, typ, _, help_text in _STATS
        ]
        for drive in entries:
            if not _DRIVE.match(drive) or (self._ignored and self._ignored.search(drive)):
                continue
            stats = f"{self._root}/{drive}/stats"
            present = set(os.listdir(stats))
            for (filename, _, _, scale, _), family in zip(_STATS, families, strict=True):
                raw = _stat(f"{stats}/{filename}") if filename in present else 0
                family.values.append(((drive,), float(raw) * scale))
        yield from (family for family in families if family.values)
