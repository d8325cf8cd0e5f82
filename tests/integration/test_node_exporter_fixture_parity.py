"""Our network, storage and NFS collectors against the real node_exporter, same fixtures.

Most hosts (this one included) have no bonds, InfiniBand or Fibre Channel adapters, IPVS,
tape drives, NFS mounts or NFS server, so the host parity run cannot cover these
collectors. Here both exporters run as real processes with `--path.procfs`/`--path.sysfs`
pointed at the fixture trees, and every family must agree: type, HELP text, label names,
series and values. Where the installed node_exporter is older than the release tocsin
follows (1.12.1), the differences are listed below with the release that made them;
nothing else may differ.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporter.collectors.infiniband_metrics import HW_COUNTERS
from tests.conftest import FIXTURES, require_binary
from tests.metrics import fetch_metrics
from tests.procs import REPO, exporter_args, free_port, node_exporter_args, running

pytestmark = pytest.mark.integration

Version = tuple[int, ...]
# {(family, sorted labels): (type, help, value)}
Series = dict[tuple[str, tuple[tuple[str, str], ...]], tuple[str, str, float]]

# 1.6.0 added netclass's `adminstate` label to node_network_info.
ADMINSTATE_SINCE = (1, 6, 0)
# 1.7.0 fixed nfsd's NFSv4 operation columns: SetClientID and SetClientIDConfirm appeared,
# and Verify, Write and RelLockOwner moved to their right columns.
NFSD_V4_FIX_SINCE = (1, 7, 0)
NFSD_V4_ADDED_IN_FIX = {"SetClientID", "SetClientIDConfirm"}
NFSD_V4_MOVED_IN_FIX = {"Verify", "Write", "RelLockOwner"}
# 1.8.0 reads `wdeleg_getattr` (Linux 6.7+); older releases fail the whole nfsd collector
# on the line, so they are compared on the Linux 2.6.32 fixture only.
WDELEG_SINCE = (1, 8, 0)
# 1.11.0 added the infiniband hw_counters (RoCE) families.
IB_HW_COUNTERS_SINCE = (1, 11, 0)

CASES = {
    "linux-6.8": (
        FIXTURES / "proc",
        ("bonding", "fibrechannel", "infiniband", "ipvs", "netclass", "nfs", "nfsd", "tapestats"),
    ),
    "linux-2.6.32": (FIXTURES / "nfs" / "linux-2.6.32" / "proc", ("nfs", "nfsd")),
}


def _version(binary: str) -> Version:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    found = re.search(r"version (\d+)\.(\d+)\.(\d+)", out.stdout + out.stderr)
    assert found, out
    return tuple(int(part) for part in found.groups())


def _series(text: str) -> Series:
    out: Series = {}
    for family in text_string_to_metric_families(text):
        if not family.name.startswith("node_") or family.name.startswith(
            ("node_scrape_collector", "node_exporter_build")
        ):
            continue
        for s in family.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            out[key] = (family.type, family.documentation, s.value)
    return out


def _scrapes(tmp_path: Path, procfs: Path | None, collectors: tuple[str, ...]) -> tuple[str, str]:
    """Both exporters' bodies: on the fixture trees, or (procfs None) on this host."""
    node_exporter = require_binary("node_exporter")
    paths = (f"--path.procfs={procfs}", f"--path.sysfs={FIXTURES / 'sys'}") if procfs else ()
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
        running(theirs_args, tmp_path / "node_exporter.log", port=theirs_port, cwd=REPO),
        running(ours_args, tmp_path / "tocsin.log", port=ours_port, cwd=REPO),
    ):
        return fetch_metrics(theirs_port), fetch_metrics(ours_port)


def _promtool_problems(promtool: str, body: str) -> set[str]:
    result = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, text=True, timeout=60
    )
    assert result.returncode in (0, 3), result.stderr  # 3 = lint problems found
    return {line for line in (result.stdout + result.stderr).splitlines() if line.strip()}


def _is_ib_hw_counter(name: str) -> bool:
    suffix = name.removeprefix("node_infiniband_")
    return suffix != name and any(
        suffix in (entry[1], entry[1].removesuffix("_total")) for entry in HW_COUNTERS
    )


def _allow_release_differences(ours: Series, theirs: Series, version: Version) -> None:
    """Bring our series to what the installed (older) release sends, in place."""
    for key in list(ours):
        name, labels = key
        label_map = dict(labels)
        if name == "node_network_info" and version < ADMINSTATE_SINCE:
            del label_map["adminstate"]
            ours[(name, tuple(sorted(label_map.items())))] = ours.pop(key)
            continue
        if version < IB_HW_COUNTERS_SINCE and _is_ib_hw_counter(name):
            del ours[key]
            continue
        if name != "node_nfsd_requests_total" or label_map.get("proto") != "4":
            continue
        method = label_map["method"]
        too_new = (version < WDELEG_SINCE and method == "WdelegGetattr") or (
            version < NFSD_V4_FIX_SINCE and method in NFSD_V4_ADDED_IN_FIX
        )
        if too_new:
            del ours[key]
        elif version < NFSD_V4_FIX_SINCE and method in NFSD_V4_MOVED_IN_FIX:
            # The old release reads these from the wrong columns: only the series must match.
            assert key in theirs, key
            ours[key] = theirs[key]


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_families_series_and_values_as_node_exporter(case: str, tmp_path: Path) -> None:
    procfs, collectors = CASES[case]
    version = _version(require_binary("node_exporter"))
    if version < WDELEG_SINCE and case == "linux-6.8":
        collectors = tuple(c for c in collectors if c != "nfsd")
    theirs_text, ours_text = _scrapes(tmp_path, procfs, collectors)
    success = {
        s.labels["collector"]: s.value
        for f in text_string_to_metric_families(theirs_text)
        if f.name == "node_scrape_collector_success"
        for s in f.samples
    }
    assert success == dict.fromkeys(collectors, 1.0), theirs_text
    theirs, ours = _series(theirs_text), _series(ours_text)
    _allow_release_differences(ours, theirs, version)
    assert theirs, "node_exporter sent nothing"
    promtool = require_binary("promtool")
    assert (
        _promtool_problems(promtool, ours_text) - _promtool_problems(promtool, theirs_text) == set()
    )
    differ = {
        k: (theirs.get(k), ours.get(k))
        for k in set(theirs) | set(ours)
        if theirs.get(k) != ours.get(k)
    }
    assert differ == {}


def test_netclass_on_this_host_equals_node_exporter(tmp_path: Path) -> None:
    # /sys/class/net is the one source here that every host has: every value must match
    # (MTU, flags, ifindex, addresses, speed), not only names and labels.
    version = _version(require_binary("node_exporter"))
    theirs_text, ours_text = _scrapes(tmp_path, None, ("netclass",))
    theirs, ours = _series(theirs_text), _series(ours_text)
    _allow_release_differences(ours, theirs, version)
    assert theirs
    differ = {
        k: (theirs.get(k), ours.get(k))
        for k in set(theirs) | set(ours)
        if theirs.get(k) != ours.get(k)
    }
    assert differ == {}
