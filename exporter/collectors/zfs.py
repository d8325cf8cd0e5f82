"""zfs: OpenZFS kstats from /proc/spl/kstat/zfs, as node_exporter's zfs collector on Linux.

Every numeric kstat becomes an untyped `node_<subsystem>_<name>` whose HELP is the kstat's
full name (`kstat.zfs.misc.arcstats.hits`), as node_exporter names them; per pool come
the I/O kstats (`<pool>/io`, OpenZFS before 2.1), per-dataset objset kstats and the pool
state.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, register
from exporter.families import Family, gauge, untyped
from exporter.procfs import read_text

# node_exporter's subsystem → the kstat file it reads.
SUBSYSTEMS = {
    "zfs_abd": "abdstats",
    "zfs_arc": "arcstats",
    "zfs_dbuf": "dbufstats",
    "zfs_dmu_tx": "dmu_tx",
    "zfs_dnode": "dnodestats",
    "zfs_fm": "fm",
    "zfs_vdev_cache": "vdev_cache_stats",
    "zfs_vdev_mirror": "vdev_mirror_stats",
    "zfs_xuio": "xuio_stats",
    "zfs_zfetch": "zfetchstats",
    "zfs_zil": "zil",
}
POOL_STATES = ("online", "degraded", "faulted", "offline", "removed", "unavail", "suspended")
# kstat data types node_exporter reports: KSTAT_DATA_INT64 and KSTAT_DATA_UINT64.
_NUMERIC = ("3", "4")


def parse_kstat(text: str) -> list[tuple[str, str, str]]:
    """(name, type, data) rows of a named kstat, after its `name type data` header."""
    rows: list[tuple[str, str, str]] = []
    started = False
    for line in text.splitlines():
        parts = line.split()
        if not started:
            started = parts == ["name", "type", "data"]
            continue
        if len(parts) >= 3:
            rows.append((parts[0], parts[1], parts[2]))
    if not started:
        raise ValueError("no 'name type data' header")
    return rows


def _metric_name(kstat: str) -> str:
    return kstat.replace("-", "_")


class _Families:
    """One family per metric name, made on first use."""

    def __init__(self) -> None:
        self.by_name: dict[str, Family] = {}

    def add(
        self,
        name: str,
        help_text: str,
        labels: tuple[str, ...],
        values: tuple[str, ...],
        value: float,
    ) -> None:
        family = self.by_name.get(name)
        if family is None:
            family = self.by_name[name] = untyped(name, help_text, labels)
        family.values.append((values, value))


@register
class ZfsCollector(Collector):
    """ARC, DMU, ZIL and other OpenZFS counters; per-pool I/O, dataset and state."""

    name = "zfs"
    description = "OpenZFS statistics from /proc/spl/kstat/zfs"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._base = str(self.paths.proc("spl/kstat/zfs"))

    def collect(self) -> Iterable[Metric]:
        try:
            entries = sorted(os.listdir(self._base))
        except FileNotFoundError as exc:
            raise CollectorUnavailable(f"{self._base} does not exist (no ZFS module)") from exc
        families = _Families()
        for subsystem, file in SUBSYSTEMS.items():
            try:
                text = read_text(f"{self._base}/{file}")
            except FileNotFoundError:
                continue  # kstats differ between OpenZFS releases
            for name, typ, data in parse_kstat(text):
                if typ in _NUMERIC:
                    families.add(
                        f"node_{subsystem}_{_metric_name(name)}",
                        f"kstat.zfs.misc.{file}.{name}",
                        (),
                        (),
                        float(int(data)),
                    )
        pools = [e for e in entries if os.path.isdir(f"{self._base}/{e}")]
        for pool in pools:
            self._pool_io(families, pool)
        for pool in pools:
            self._objsets(families, pool)
        yield from families.by_name.values()
        yield from self._states(pools)

    def _pool_io(self, families: _Families, pool: str) -> None:
        try:
            text = read_text(f"{self._base}/{pool}/io")
        except FileNotFoundError:
            return  # OpenZFS 2.1 dropped the per-pool io kstat
        fields: list[str] | None = None
        for line in text.splitlines():
            parts = line.split()
            if fields is None:
                if len(parts) >= 12 and parts[0] == "nread":
                    fields = parts
                continue
            for field, raw in zip(fields, parts, strict=True):
                families.add(
                    f"node_zfs_zpool_{_metric_name(field)}",
                    f"kstat.zfs.misc.io.{field}",
                    ("zpool",),
                    (pool,),
                    float(int(raw)),
                )

    def _objsets(self, families: _Families, pool: str) -> None:
        directory = f"{self._base}/{pool}"
        for entry in sorted(os.listdir(directory)):
            if not entry.startswith("objset-"):
                continue
            text = read_text(f"{directory}/{entry}")
            dataset = ""
            for line in text.splitlines()[2:]:
                parts = line.split()
                if len(parts) < 3:
                    continue
                if parts[0] == "dataset_name":
                    # The rest of the line, so a name with spaces stays whole.
                    dataset = line[line.index(parts[2]) :]
                elif parts[1] == "4":
                    families.add(
                        f"node_zfs_zpool_dataset_{_metric_name(parts[0])}",
                        f"kstat.zfs.misc.objset.{parts[0]}",
                        ("zpool", "dataset"),
                        (pool, dataset),
                        float(int(parts[2])),
                    )

    def _states(self, pools: list[str]) -> Iterable[Family]:
        family = gauge("node_zfs_zpool_state", "kstat.zfs.misc.state", ["zpool", "state"])
        for pool in pools:
            try:
                lines = read_text(f"{self._base}/{pool}/state").splitlines()
            except FileNotFoundError:
                continue  # OpenZFS before 0.8 has no state kstat
            actual = lines[0].lower() if lines else ""
            for state in POOL_STATES:
                family.values.append(((pool, state), 1.0 if state == actual else 0.0))
        if family.values:
            yield family
