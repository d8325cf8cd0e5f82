"""bcache: cache-set, backing- and cache-device statistics from /sys/fs/bcache, as node_exporter.

bcache prints most values "humanised" (`1.5M`); they are read back the way
prometheus/procfs reads them, quirks included (a fraction digit counts 1/10.24 of the
unit, the btree read average is scaled as if it were nanoseconds), so the numbers agree
with node_exporter's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, register
from exporter.families import Family, counter, gauge
from exporter.procfs import read_text

_MULTIPLIERS = {c: float(1 << (10 * (i + 1))) for i, c in enumerate("kMGTPEZY")}
_BDEV = re.compile(r"bdev[0-9]")
_CACHE = re.compile(r"cache[0-9]")

# (file under the cache set, metric suffix, help, is counter, scale)
_SET = (
    (
        "average_key_size",
        "average_key_size_sectors",
        "Average data per key in the btree (sectors).",
        False,
        1.0,
    ),
    (
        "btree_cache_size",
        "btree_cache_size_bytes",
        "Amount of memory currently used by the btree cache.",
        False,
        1.0,
    ),
    (
        "cache_available_percent",
        "cache_available_percent",
        "Percentage of cache device without dirty data, usable for writeback (may contain clean cached data).",  # noqa: E501
        False,
        1.0,
    ),
    ("congested", "congested", "Congestion.", False, 1.0),
    (
        "root_usage_percent",
        "root_usage_percent",
        "Percentage of the root btree node in use (tree depth increases if too high).",
        False,
        1.0,
    ),
    ("tree_depth", "tree_depth", "Depth of the btree.", False, 1.0),
    (
        "internal/active_journal_entries",
        "active_journal_entries",
        "Number of journal entries that are newer than the index.",
        False,
        1.0,
    ),
    ("internal/btree_nodes", "btree_nodes", "Total nodes in the btree.", False, 1.0),
    # procfs stores the microsecond file in a field named for nanoseconds; node_exporter
    # then scales by 1e-9. Kept, so the value matches node_exporter's.
    (
        "internal/btree_read_average_duration_us",
        "btree_read_average_duration_seconds",
        "Average btree read duration.",
        False,
        1e-9,
    ),
    (
        "internal/cache_read_races",
        "cache_read_races_total",
        "Counts instances where while data was being read from the cache, the bucket was reused and invalidated - i.e. where the pointer was stale after the read completed.",  # noqa: E501
        True,
        1.0,
    ),
)
# (file under <bdev>/stats_total, metric suffix, help)
_PERIOD = (
    (
        "bypassed",
        "bypassed_bytes_total",
        "Amount of IO (both reads and writes) that has bypassed the cache.",
    ),
    ("cache_hits", "cache_hits_total", "Hits counted per individual IO as bcache sees them."),
    ("cache_misses", "cache_misses_total", "Misses counted per individual IO as bcache sees them."),
    ("cache_bypass_hits", "cache_bypass_hits_total", "Hits for IO intended to skip the cache."),
    (
        "cache_bypass_misses",
        "cache_bypass_misses_total",
        "Misses for IO intended to skip the cache.",
    ),
    (
        "cache_miss_collisions",
        "cache_miss_collisions_total",
        "Instances where data insertion from cache miss raced with write (data already present).",
    ),
)
# (writeback_rate_debug key, metric suffix, help)
_WRITEBACK = (
    (
        "target",
        "dirty_target_bytes",
        "Current dirty data target threshold for this backing device in bytes.",
    ),
    ("rate", "writeback_rate", "Current writeback rate for this backing device in bytes."),
    (
        "proportional",
        "writeback_rate_proportional_term",
        "Current result of proportional controller, part of writeback rate",
    ),
    (
        "integral",
        "writeback_rate_integral_term",
        "Current result of integral controller, part of writeback rate",
    ),
    ("change", "writeback_change", "Last writeback rate change step for this backing device."),
)
_CACHE_DEVICE = (
    ("io_errors", "io_errors", "Number of errors that have occurred, decayed by io_error_halflife.", False),  # noqa: E501
    ("metadata_written", "metadata_written_bytes_total", "Sum of all non data writes (btree writes and all other metadata).", True),  # noqa: E501
    ("written", "written_bytes_total", "Sum of all data that has been written to the cache.", True),
)  # fmt: skip


@dataclass
class BcacheConfig:
    """`collectors.bcache`: node_exporter's --collector.bcache.priorityStats."""

    # Reading priority_stats makes the kernel walk every bucket: off by default.
    priority_stats: bool = False


def _pseudo_float(text: str) -> float:
    whole, dot, fraction = text.partition(".")
    value = float(whole)
    return value + float(fraction) / 10.24 if dot else value


def dehumanize(text: str) -> float:
    """A bcache humanised number (`1.5M`, `310k`, `12`) as procfs reads it."""
    if not text:
        raise ValueError("empty bcache value")
    if text[-1] > "9":
        value = _pseudo_float(text[:-1]) * _MULTIPLIERS.get(text[-1], 0.0)
    else:
        value = float(text)
    # procfs converts to uint64, dropping the fraction.
    return float(int(value))


def dehumanize_signed(text: str) -> float:
    """As `dehumanize`, with an optional leading minus."""
    value = dehumanize(text.removeprefix("-"))
    return -value if text.startswith("-") else value


def parse_writeback_rate_debug(text: str) -> dict[str, float]:
    """rate, dirty, target, proportional, integral and change from writeback_rate_debug."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        fields = rest.split()
        if (
            not sep
            or not fields
            or key not in ("rate", "dirty", "target", "proportional", "integral", "change")
        ):
            continue
        raw = fields[-1].removesuffix("/sec")
        signed = key in ("proportional", "integral", "change")
        out[key] = dehumanize_signed(raw) if signed else dehumanize(raw)
    return out


def parse_priority_stats(text: str) -> tuple[float, float]:
    """(unused %, metadata %) from priority_stats."""
    unused = metadata = 0.0
    for line in text.splitlines():
        if line.startswith(("Unused:", "Metadata:")):
            value = float(int(line.split()[-1].removesuffix("%")))
            if line.startswith("Unused:"):
                unused = value
            else:
                metadata = value
    return unused, metadata


def _read(path: str) -> float:
    """A humanised sysfs value; an absent file reads 0, as in procfs."""
    try:
        text = read_text(path)
    except FileNotFoundError:
        return 0.0
    return dehumanize(text[:-1] if text.endswith("\n") else text)


class _Families:
    def __init__(self) -> None:
        self.by_name: dict[str, Family] = {}

    def add(
        self,
        suffix: str,
        help_text: str,
        is_counter: bool,
        labels: tuple[str, ...],
        values: tuple[str, ...],
        value: float,
    ) -> None:
        family = self.by_name.get(suffix)
        if family is None:
            make = counter if is_counter else gauge
            family = self.by_name[suffix] = make(f"node_bcache_{suffix}", help_text, labels)
        family.values.append((values, value))


@register
class BcacheCollector(Collector):
    """Per cache set: btree and journal state; per backing device: dirty data, writeback
    and hit/miss totals; per cache device: errors and bytes written."""

    name = "bcache"
    description = "bcache statistics from /sys/fs/bcache"
    Config = BcacheConfig
    config: BcacheConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._root = str(self.paths.sys("fs/bcache"))

    def collect(self) -> Iterable[Metric]:
        try:
            entries = sorted(os.listdir(self._root))
        except FileNotFoundError as exc:
            raise CollectorUnavailable(f"{self._root} does not exist (no bcache)") from exc
        families = _Families()
        # Cache sets are the UUID-named directories (not `register`, `pendings_cleanup`).
        for uuid in (e for e in entries if "-" in e):
            self._cache_set(families, uuid)
        yield from families.by_name.values()

    def _cache_set(self, f: _Families, uuid: str) -> None:
        base = f"{self._root}/{uuid}"
        for file, suffix, help_text, is_counter, scale in _SET:
            f.add(
                suffix, help_text, is_counter, ("uuid",), (uuid,), _read(f"{base}/{file}") * scale
            )
        members = sorted(os.listdir(base))
        labels = ("uuid", "backing_device")
        for bdev in (m for m in members if _BDEV.match(m)):
            values = (uuid, bdev)
            f.add(
                "dirty_data_bytes",
                "Amount of dirty data for this backing device in the cache.",
                False,
                labels,
                values,
                _read(f"{base}/{bdev}/dirty_data"),
            )
            debug = parse_writeback_rate_debug(read_text(f"{base}/{bdev}/writeback_rate_debug"))
            for key, suffix, help_text in _WRITEBACK:
                f.add(suffix, help_text, False, labels, values, debug.get(key, 0.0))
            for file, suffix, help_text in _PERIOD:
                f.add(
                    suffix,
                    help_text,
                    True,
                    labels,
                    values,
                    _read(f"{base}/{bdev}/stats_total/{file}"),
                )
            readaheads = _read(f"{base}/{bdev}/stats_total/cache_readaheads")
            if readaheads:  # the kernel stopped counting them in 4.x; node_exporter skips 0
                f.add(
                    "cache_readaheads_total",
                    "Count of times readahead occurred.",
                    True,
                    labels,
                    values,
                    readaheads,
                )
        labels = ("uuid", "cache_device")
        for cache in (m for m in members if _CACHE.match(m)):
            values = (uuid, cache)
            for file, suffix, help_text, is_counter in _CACHE_DEVICE:
                f.add(
                    suffix, help_text, is_counter, labels, values, _read(f"{base}/{cache}/{file}")
                )
            if self.config.priority_stats:
                unused, metadata = parse_priority_stats(read_text(f"{base}/{cache}/priority_stats"))
                f.add(
                    "priority_stats_unused_percent",
                    "The percentage of the cache that doesn't contain any data.",
                    False,
                    labels,
                    values,
                    unused,
                )
                f.add(
                    "priority_stats_metadata_percent",
                    "Bcache's metadata overhead.",
                    False,
                    labels,
                    values,
                    metadata,
                )
