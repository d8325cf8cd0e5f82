"""tocsin-exporter against a real node_exporter, both on their full default collector sets.

Both run as real processes on this host with their defaults; node_exporter gets our
(upstream node_exporter's) filter defaults as explicit flags, since Debian patches some of
its own. Every node_* family node_exporter exports here, tocsin must export with the same
type and label names, and static values must agree. Differences are listed below, each
with its reason; NOT_YET lists the families of node_exporter collectors tocsin does not
have yet, by collector, and empties as they arrive.
"""

from __future__ import annotations

import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporter.collectors.diskstats import DEFAULT_DEVICE_EXCLUDE
from exporter.collectors.filesystem import DEFAULT_FS_TYPES_EXCLUDE, DEFAULT_MOUNT_POINTS_EXCLUDE
from exporter.discovery import available
from tests.conftest import require_binary
from tests.metrics import fetch_metrics
from tests.procs import exporter_args, free_port, running

pytestmark = pytest.mark.integration

# node_exporter's default collectors tocsin does not have yet → the families they export
# on a host like this one (a collector that finds nothing here exports nothing).
NOT_YET: dict[str, set[str]] = {}
# Sources absent on this host, where node_exporter reports success 1 with no series and
# tocsin reports the collector unavailable (success 0, one log line), as it does for
# every collector whose files are missing.
ABSENT_HERE_OK = {"bcache", "cpufreq", "edac"}
# On in Debian's node_exporter, off by default in tocsin (it needs the system bus).
DEBIAN_ONLY_DEFAULTS = {"systemd"}

# Labels we add that older node_exporter releases (such as Debian's 1.5) lack.
EXTRA_LABELS_OK = {
    # node_exporter 1.9.0 added `rotational` (/sys/block/<dev>/queue/rotational).
    "node_disk_info": {"rotational"},
    # netclass's `adminstate` (from the IFF_UP flag) came in node_exporter 1.6.0.
    "node_network_info": {"adminstate"},
}
# Families we send that older node_exporter releases never do, with the release adding them.
EXTRA_FAMILIES_OK = {
    # 1.9.0: IRQ pressure (/proc/pressure/irq, Linux >= 6.1).
    "node_pressure_irq_stalled_seconds",
    # 1.8.0: SUPPORT_END in os-release.
    "node_os_support_end_timestamp_seconds",
    # 1.6.0: softnet's columns after times_squeezed.
    "node_softnet_backlog_len",
    "node_softnet_cpu_collision",
    "node_softnet_flow_limit_count",
    "node_softnet_received_rps",
    # In the default --collector.netstat.fields: TCPOFOQueue since 1.8.0, TCPRcvQDrop 1.9.0.
    "node_netstat_TcpExt_TCPOFOQueue",
    "node_netstat_TcpExt_TCPRcvQDrop",
}
# The Go runtime's and the HTTP handler's families: node_exporter's alone.
GO_ONLY_PREFIXES = ("go_", "promhttp_", "process_network_")

Families = dict[str, tuple[str, set[str], dict[tuple[tuple[str, str], ...], float]]]


def _families(text: str, prefix: str = "node_") -> Families:
    """The families whose names start with `prefix`, node_exporter_build_info left out."""
    out: Families = {}
    for family in text_string_to_metric_families(text):
        if not family.name.startswith(prefix) or family.name == "node_exporter_build_info":
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
    """The /metrics bodies of node_exporter and of tocsin-exporter, both on defaults."""
    node_exporter = require_binary("node_exporter")
    work = tmp_path_factory.mktemp("parity")
    theirs_port, ours_port = free_port(), free_port()
    theirs_args = [
        node_exporter,
        f"--web.listen-address=127.0.0.1:{theirs_port}",
        f"--collector.filesystem.mount-points-exclude={DEFAULT_MOUNT_POINTS_EXCLUDE}",
        f"--collector.filesystem.fs-types-exclude={DEFAULT_FS_TYPES_EXCLUDE}",
        f"--collector.diskstats.device-exclude={DEFAULT_DEVICE_EXCLUDE}",
        "--collector.netdev.device-exclude=",
        f"--collector.textfile.directory={work}",
    ]
    config = work / "exporter.yml"
    config.write_text(f"global:\n  state_dir: {work / 'state'}\n")
    ours_args = exporter_args(ours_port, f"--config.file={config}")
    with (
        running(theirs_args, work / "node_exporter.log", port=theirs_port, cwd=work),
        running(ours_args, work / "tocsin.log", port=ours_port, cwd=work),
    ):
        # A first scrape each, so that counters first reported on a second scrape show.
        fetch_metrics(theirs_port)
        fetch_metrics(ours_port)
        theirs = fetch_metrics(theirs_port)
        ours = fetch_metrics(ours_port)
    return theirs, ours


@pytest.fixture(scope="module")
def scrapes(raw_scrapes: tuple[str, str]) -> tuple[Families, Families]:
    theirs, ours = raw_scrapes
    return _families(theirs), _families(ours)


def _successes(families: Families) -> dict[str, float]:
    values = families["node_scrape_collector_success"][2]
    return {dict(labels)["collector"]: v for labels, v in values.items()}


def test_not_yet_lists_only_collectors_tocsin_lacks() -> None:
    # The lead empties an entry when its collector is merged; a stale one fails here.
    assert sorted(set(NOT_YET) & set(available())) == []


def test_every_default_collector_of_node_exporter_is_ours_or_not_yet(
    scrapes: tuple[Families, Families],
) -> None:
    theirs, ours = scrapes
    their_collectors = set(_successes(theirs))
    assert their_collectors, "node_exporter reported no collectors"
    missing = their_collectors - set(_successes(ours)) - set(NOT_YET) - DEBIAN_ONLY_DEFAULTS
    assert sorted(missing) == []
    assert set(NOT_YET) | set(available()) >= DEBIAN_ONLY_DEFAULTS
    for name in DEBIAN_ONLY_DEFAULTS & set(available()):
        assert not available()[name].default_enabled, name


def test_collectors_succeed_where_node_exporter_succeeds(
    scrapes: tuple[Families, Families],
) -> None:
    theirs, ours = scrapes
    their_success, our_success = _successes(theirs), _successes(ours)
    differ = {
        name: (their_success[name], our_success[name])
        for name in set(their_success) & set(our_success)
        if their_success[name] != our_success[name]
    }
    allowed = {name: (1, 0.0) for name in ABSENT_HERE_OK}
    assert {k: v for k, v in differ.items() if allowed.get(k) != v} == {}


def test_same_metric_names(scrapes: tuple[Families, Families]) -> None:
    theirs, ours = scrapes
    assert theirs, "node_exporter sent no node_* metrics"
    not_yet = set().union(*NOT_YET.values())
    assert sorted(set(theirs) - set(ours) - not_yet) == []
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
    # The same devices, CPUs, mounts, interfaces and queues, not just the same label names.
    theirs, ours = scrapes
    for name in (
        "node_cpu_seconds",
        "node_filesystem_size_bytes",
        "node_disk_reads_completed",
        "node_network_receive_bytes",
        "node_softnet_processed",
        "node_udp_queues",
        "node_arp_entries",
        "node_schedstat_running_seconds",
    ):
        if name in theirs:
            assert set(ours[name][2]) == set(theirs[name][2]), name


def test_static_values_equal(scrapes: tuple[Families, Families]) -> None:
    theirs, ours = scrapes

    def value(families: Families, name: str) -> float:
        return families[name][2][()]

    for name in (
        "node_memory_MemTotal_bytes",
        "node_boot_time_seconds",
        "node_entropy_pool_size_bits",
        "node_nf_conntrack_entries_limit",
        "node_netstat_Ip_Forwarding",
        "node_selinux_enabled",
        "node_timex_tick_seconds",
        "node_timex_status",
        "node_timex_loop_time_constant",
        "node_timex_tai_offset_seconds",
        "node_timex_sync_status",
    ):
        if name in theirs:
            assert value(ours, name) == value(theirs, name), name
    sizes = "node_filesystem_size_bytes"
    assert ours[sizes][2] == theirs[sizes][2]

    def cpus(families: Families) -> set[str]:
        return {dict(labels)["cpu"] for labels in families["node_cpu_seconds"][2]}

    assert cpus(ours) == cpus(theirs)
    for name in ("node_uname_info", "node_os_info", "node_filefd_maximum"):
        assert ours[name][2] == theirs[name][2], name


def test_process_families_as_node_exporter(raw_scrapes: tuple[str, str]) -> None:
    theirs_text, ours_text = raw_scrapes
    theirs = {
        name: family
        for name, family in _families(theirs_text, "process_").items()
        if not name.startswith(GO_ONLY_PREFIXES)
    }
    ours = _families(ours_text, "process_")
    assert {n: f[0] for n, f in ours.items()} == {n: f[0] for n, f in theirs.items()}
    name = "process_max_fds"
    assert ours[name][2] == theirs[name][2]


def _promtool_problems(promtool: str, body: str) -> set[str]:
    result = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, text=True, timeout=60
    )
    assert result.returncode in (0, 3), result.stderr  # 3 = lint problems found
    return {line for line in (result.stdout + result.stderr).splitlines() if line.strip()}


def test_promtool_finds_nothing_node_exporter_does_not_have(raw_scrapes: tuple[str, str]) -> None:
    # node_exporter's own names (node_memory_MemTotal_bytes, node_netstat_Tcp_InSegs, ...)
    # fail promtool's snake_case lint; we keep them for compatibility, and add no others
    # (newer node_exporter releases' families, EXTRA_FAMILIES_OK, are as they name them).
    promtool = require_binary("promtool")
    theirs, ours = raw_scrapes
    extra = _promtool_problems(promtool, ours) - _promtool_problems(promtool, theirs)
    newer = {p for p in extra if p.split(" ", 1)[0].removesuffix("_total") in EXTRA_FAMILIES_OK}
    assert extra - newer == set()
