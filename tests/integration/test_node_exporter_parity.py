"""Our system collectors against a real node_exporter scraping the same host.

Both exporters run as real processes with the same collector set; node_exporter gets our
default filters as explicit flags (Debian patches some of its defaults). Metric names,
label names and types must be equal; values must be equal where they are static.
"""

from __future__ import annotations

import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporter.collectors.diskstats import DEFAULT_DEVICE_EXCLUDE
from exporter.collectors.filesystem import DEFAULT_FS_TYPES_EXCLUDE, DEFAULT_MOUNT_POINTS_EXCLUDE
from tests.conftest import SYSTEM_COLLECTORS, require_binary
from tests.metrics import fetch_metrics
from tests.procs import REPO, exporter_args, free_port, node_exporter_args, running

pytestmark = pytest.mark.integration

# Intentional differences, each with its reason. Nothing else may differ.
# Labels we add that older node_exporter releases (such as Debian's 1.5) lack.
EXTRA_LABELS_OK = {
    # Current node_exporter has `rotational` (/sys/block/<dev>/queue/rotational); 1.5 lacks it.
    "node_disk_info": {"rotational"},
    # netclass's `adminstate` (from the IFF_UP flag) came in node_exporter 1.6.0.
    "node_network_info": {"adminstate"},
}
# Families we may send that older node_exporter releases never do.
EXTRA_FAMILIES_OK = {
    # IRQ pressure (/proc/pressure/irq, Linux >= 6.1): only current node_exporter reads it.
    "node_pressure_irq_stalled_seconds",
    # SUPPORT_END in os-release: only current node_exporter reads it.
    "node_os_support_end_timestamp_seconds",
}

Families = dict[str, tuple[str, set[str], dict[tuple[tuple[str, str], ...], float]]]


def _families(text: str) -> Families:
    """node_* families only (each exporter's self-metrics differ by design)."""
    out: Families = {}
    for family in text_string_to_metric_families(text):
        if not family.name.startswith("node_") or family.name.startswith(
            ("node_scrape_collector", "node_exporter_build")
        ):
            continue
        labels: set[str] = set()
        values = {}
        for s in family.samples:
            labels.update(s.labels)
            values[tuple(sorted(s.labels.items()))] = s.value
        out[family.name] = (family.type, labels, values)
    return out


@pytest.fixture(scope="module")
def raw_scrapes(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The /metrics bodies of node_exporter and of tocsin-exporter, same collectors."""
    node_exporter = require_binary("node_exporter")
    logs = tmp_path_factory.mktemp("parity")
    theirs_port, ours_port = free_port(), free_port()
    theirs_args = node_exporter_args(
        node_exporter,
        theirs_port,
        SYSTEM_COLLECTORS,
        "--web.disable-exporter-metrics",
        f"--collector.filesystem.mount-points-exclude={DEFAULT_MOUNT_POINTS_EXCLUDE}",
        f"--collector.filesystem.fs-types-exclude={DEFAULT_FS_TYPES_EXCLUDE}",
        f"--collector.diskstats.device-exclude={DEFAULT_DEVICE_EXCLUDE}",
        "--collector.netdev.device-exclude=",
    )
    ours_args = exporter_args(
        ours_port,
        "--collector.disable-defaults",
        *(f"--collector.{name}" for name in SYSTEM_COLLECTORS),
    )
    with (
        running(theirs_args, logs / "node_exporter.log", port=theirs_port, cwd=REPO),
        running(ours_args, logs / "tocsin.log", port=ours_port, cwd=REPO),
    ):
        theirs = fetch_metrics(theirs_port)
        ours = fetch_metrics(ours_port)
    return theirs, ours


@pytest.fixture(scope="module")
def scrapes(raw_scrapes: tuple[str, str]) -> tuple[Families, Families]:
    theirs, ours = raw_scrapes
    return _families(theirs), _families(ours)


def _promtool_problems(promtool: str, body: str) -> set[str]:
    result = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, text=True, timeout=60
    )
    assert result.returncode in (0, 3), result.stderr  # 3 = lint problems found
    return {line for line in (result.stdout + result.stderr).splitlines() if line.strip()}


def test_promtool_finds_nothing_node_exporter_does_not_have(raw_scrapes: tuple[str, str]) -> None:
    # node_exporter's own node_memory_<Field>_bytes names (MemTotal, SwapFree, ...) fail
    # promtool's snake_case lint; we must keep them for compatibility, and add no others.
    promtool = require_binary("promtool")
    theirs, ours = raw_scrapes
    assert _promtool_problems(promtool, ours) - _promtool_problems(promtool, theirs) == set()
    no_meminfo = "".join(line + "\n" for line in ours.splitlines() if "node_memory_" not in line)
    assert _promtool_problems(promtool, no_meminfo) == set()


def test_same_metric_names(scrapes: tuple[Families, Families]) -> None:
    theirs, ours = scrapes
    assert theirs, "node_exporter sent no node_* metrics"
    assert sorted(set(theirs) - set(ours)) == []
    assert sorted(set(ours) - set(theirs) - EXTRA_FAMILIES_OK) == []


def test_same_types(scrapes: tuple[Families, Families]) -> None:
    theirs, ours = scrapes
    mismatched = {
        name: (theirs[name][0], ours[name][0])
        for name in set(theirs) & set(ours)
        if theirs[name][0] != ours[name][0]
    }
    assert mismatched == {}


def test_same_label_names(scrapes: tuple[Families, Families]) -> None:
    theirs, ours = scrapes
    mismatched = {}
    for name in set(theirs) & set(ours):
        their_labels, our_labels = theirs[name][1], ours[name][1]
        if their_labels != our_labels - (EXTRA_LABELS_OK.get(name, set()) - their_labels):
            mismatched[name] = (sorted(their_labels), sorted(our_labels))
    assert mismatched == {}


def test_same_series_for_device_and_mount_metrics(scrapes: tuple[Families, Families]) -> None:
    # The same devices, CPUs, mounts and interfaces, not just the same label names.
    theirs, ours = scrapes
    for name in (
        "node_cpu_seconds",
        "node_filesystem_size_bytes",
        "node_disk_reads_completed",
        "node_network_receive_bytes",
    ):
        if name in theirs:
            assert set(ours[name][2]) == set(theirs[name][2]), name


def test_static_values_equal(scrapes: tuple[Families, Families]) -> None:
    theirs, ours = scrapes

    def value(families: Families, name: str) -> float:
        return families[name][2][()]

    assert value(ours, "node_memory_MemTotal_bytes") == value(theirs, "node_memory_MemTotal_bytes")
    assert value(ours, "node_boot_time_seconds") == value(theirs, "node_boot_time_seconds")
    sizes = "node_filesystem_size_bytes"
    assert ours[sizes][2] == theirs[sizes][2]

    def cpus(families: Families) -> set[str]:
        return {dict(labels)["cpu"] for labels in families["node_cpu_seconds"][2]}

    assert cpus(ours) == cpus(theirs)
    uname = "node_uname_info"
    assert ours[uname][2] == theirs[uname][2]
    assert ours["node_os_info"][2] == theirs["node_os_info"][2]
    assert ours["node_filefd_maximum"][2] == theirs["node_filefd_maximum"][2]
