"""bcache, btrfs, mdadm, xfs and zfs against the real node_exporter, both reading the same
fixture /proc and /sys trees (--path.procfs / --path.sysfs), so every value is static and
must agree. This host has none of these subsystems in use, so the fixtures are what both
exporters see; the differences allowed below are those between Debian's node_exporter 1.5
and the latest release, which tocsin follows, each with the release that changed it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import FIXTURES, require_binary
from tests.metrics import fetch_metrics
from tests.procs import REPO, exporter_args, free_port, node_exporter_args, running

pytestmark = pytest.mark.integration

COLLECTORS = ("bcache", "btrfs", "mdadm", "xfs", "zfs")
PATHS = (f"--path.procfs={FIXTURES / 'proc'}", f"--path.sysfs={FIXTURES / 'sys'}")

# Families that only newer node_exporter releases export.
NEWER_FAMILIES = {
    # 1.9.0 (#3010): btrfs commit statistics from /sys/fs/btrfs/<uuid>/commit_stats.
    "node_btrfs_commits": "1.9.0",
    "node_btrfs_commit_seconds": "1.9.0",
    "node_btrfs_last_commit_seconds": "1.9.0",
    "node_btrfs_max_commit_seconds": "1.9.0",
    # 1.10.0 (#3031): mdadm reads /sys/block/md*/md as well.
    "node_md_degraded": "1.10.0",
    "node_md_raid_disks": "1.10.0",
    # 1.6.0 (#2687): signed (int64) kstats are reported; dbufstats read from the right file.
    "node_zfs_arc_memory_available_bytes": "1.6.0",
    "node_zfs_zfetch_io_active": "1.6.0",
}
NEWER_PREFIXES = {"node_zfs_dbuf_": "1.6.0"}
# Series whose label values changed in newer releases: {family: {label: (1.5, latest)}}.
CHANGED_SERIES = {
    # 1.9.0 (#3186): a dataset name keeps its spaces.
    "node_zfs_zpool_dataset_": ("dataset", "tank/home", "tank/home media"),
}
# 1.6.0 (#2449): `suspended` is one of node_zfs_zpool_state's states.
NEW_STATE = ("node_zfs_zpool_state", "state", "suspended")
# 1.6.0 (#2583): node_bcache_cache_readaheads_total only where the kernel counts them (> 0).
ZERO_DROPPED = "node_bcache_cache_readaheads"

Series = dict[tuple[tuple[str, str], ...], float]
Families = dict[str, tuple[str, str, Series]]


def _families(text: str) -> Families:
    out: Families = {}
    for family in text_string_to_metric_families(text):
        if family.name.startswith("node_") and not family.name.startswith(
            ("node_scrape_collector", "node_exporter_build")
        ):
            series = {tuple(sorted(s.labels.items())): s.value for s in family.samples}
            out[family.name] = (family.type, family.documentation, series)
    return out


def _newer(name: str) -> bool:
    return name in NEWER_FAMILIES or name.startswith(tuple(NEWER_PREFIXES))


def _as_in_1_5(name: str, series: Series) -> Series:
    """Our series as node_exporter 1.5 would label them (the allowed differences undone)."""
    out: Series = {}
    for labels, value in series.items():
        if name == NEW_STATE[0] and (NEW_STATE[1], NEW_STATE[2]) in labels:
            continue
        for prefix, (label, old, new) in CHANGED_SERIES.items():
            if name.startswith(prefix) and (label, new) in labels:
                labels = tuple(sorted({**dict(labels), label: old}.items()))
        out[labels] = value
    return out


def _scrape_both(
    collectors: tuple[str, ...], paths: tuple[str, ...], logs: Path
) -> tuple[str, str]:
    """/metrics of node_exporter and of tocsin, each with `collectors` on `paths`."""
    node_exporter = require_binary("node_exporter")
    theirs_port, ours_port = free_port(), free_port()
    theirs_args = node_exporter_args(
        node_exporter, theirs_port, collectors, "--web.disable-exporter-metrics", *paths
    )
    ours_args = exporter_args(
        ours_port,
        "--collector.disable-defaults",
        *(f"--collector.{name}" for name in collectors),
        *paths,
    )
    with (
        running(theirs_args, logs / "node_exporter.log", port=theirs_port, cwd=REPO),
        running(ours_args, logs / "tocsin.log", port=ours_port, cwd=REPO),
    ):
        return fetch_metrics(theirs_port), fetch_metrics(ours_port)


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return _scrape_both(COLLECTORS, PATHS, tmp_path_factory.mktemp("storage-parity"))


@pytest.fixture(scope="module")
def scrapes(raw: tuple[str, str]) -> tuple[Families, Families, str]:
    return _families(raw[0]), _families(raw[1]), raw[0]


def _promtool_problems(promtool: str, body: str) -> set[str]:
    result = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, text=True, timeout=60
    )
    assert result.returncode in (0, 3), result.stderr  # 3 = lint problems found
    return {line for line in (result.stdout + result.stderr).splitlines() if line.strip()}


def test_promtool_finds_nothing_node_exporter_does_not_have(raw: tuple[str, str]) -> None:
    promtool = require_binary("promtool")
    theirs, ours = raw
    assert _promtool_problems(promtool, ours) - _promtool_problems(promtool, theirs) == set()


def test_node_exporter_read_every_fixture_collector(
    scrapes: tuple[Families, Families, str],
) -> None:
    text = scrapes[2]
    for name in COLLECTORS:
        assert f'node_scrape_collector_success{{collector="{name}"}} 1' in text, name


def test_same_families(scrapes: tuple[Families, Families, str]) -> None:
    theirs, ours, _ = scrapes
    assert sorted(set(theirs) - set(ours)) == []
    assert sorted(n for n in set(ours) - set(theirs) if not _newer(n)) == []
    # Each allowance is used: an entry that no longer differs must be removed.
    assert all(n in ours and n not in theirs for n in NEWER_FAMILIES)


def test_same_types_and_help(scrapes: tuple[Families, Families, str]) -> None:
    theirs, ours, _ = scrapes
    mismatched = {
        name: (theirs[name][:2], ours[name][:2])
        for name in set(theirs) & set(ours)
        if theirs[name][:2] != ours[name][:2]
    }
    assert mismatched == {}


def test_same_series_and_values(scrapes: tuple[Families, Families, str]) -> None:
    theirs, ours, _ = scrapes
    differ = {}
    for name in sorted(set(theirs) & set(ours)):
        their_series = theirs[name][2]
        if name == ZERO_DROPPED:
            their_series = {k: v for k, v in their_series.items() if v != 0}
        if _as_in_1_5(name, ours[name][2]) != their_series:
            differ[name] = (their_series, ours[name][2])
    assert differ == {}


def test_mdadm_on_a_3_10_mdstat_differs_only_by_reshape(tmp_path: Path) -> None:
    # node_exporter 1.10.0 (procfs 0.17, #679) recognises a reshape: the array is then in
    # none of node_md_state's states and its blocks_synced is the reshape's progress;
    # 1.5 calls it active and fully synced.
    tree = FIXTURES / "mdadm-3.10"
    paths = (f"--path.procfs={tree / 'proc'}", f"--path.sysfs={tree / 'sys'}")
    theirs_text, ours_text = _scrape_both(("mdadm",), paths, tmp_path)
    theirs, ours = _families(theirs_text), _families(ours_text)
    reshaping = (("device", "md10"),)
    theirs["node_md_state"][2][(*reshaping, ("state", "active"))] = 0.0
    theirs["node_md_blocks_synced"][2][reshaping] = 212187136.0
    assert ours == theirs
