"""nfs and nfsd: exact output against fixture /proc/net/rpc files of two kernel generations.

tests/fixtures/proc/net/rpc has Linux 6.8's layout (no `proc2`, no `ra`, 69 client and 77
server NFSv4 operations, `wdeleg_getattr`); tests/fixtures/nfs/linux-2.6.32 has RHEL 6's
(`proc2`, `ra`, 48 client and 40 server NFSv4 operations). The expected files were checked
against the real node_exporter by tests/integration/test_node_exporter_fixture_parity.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.collector import CollectorContext, CollectorUnavailable, HostPaths
from exporter.collectors.nfs import NfsCollector
from exporter.collectors.nfsd import NfsdCollector
from tests.conftest import FIXTURES
from tests.registry import exposition, samples

KERNELS = {"6.8": FIXTURES / "proc", "2.6.32": FIXTURES / "nfs" / "linux-2.6.32" / "proc"}
COLLECTORS = {"nfs": NfsCollector, "nfsd": NfsdCollector}


def collect(name: str, procfs: Path) -> str:
    return exposition(COLLECTORS[name](CollectorContext(paths=HostPaths(procfs=procfs))))


@pytest.mark.parametrize("kernel", sorted(KERNELS))
@pytest.mark.parametrize("name", sorted(COLLECTORS))
def test_fixture_output_is_exact(name: str, kernel: str) -> None:
    expected = (FIXTURES / "expected" / f"{name}-linux-{kernel}.prom").read_text()
    assert collect(name, KERNELS[kernel]) == expected


def test_client_v4_operations_map_to_procfs_columns(tmp_path: Path) -> None:
    # Column 45 after the count is GETDEVICEINFO and 46 LAYOUTGET, whatever the list order.
    values = [0] * 59
    values[44], values[45] = 7, 9
    rpc = tmp_path / "net" / "rpc"
    rpc.mkdir(parents=True)
    (rpc / "nfs").write_text(f"proc4 59 {' '.join(map(str, values))}\n")
    found = samples(NfsCollector(CollectorContext(paths=HostPaths(procfs=tmp_path))))
    assert found[("node_nfs_requests_total", (("method", "GetDeviceInfo"), ("proto", "4")))] == 7
    assert found[("node_nfs_requests_total", (("method", "LayoutGet"), ("proto", "4")))] == 9


@pytest.mark.parametrize("name", sorted(COLLECTORS))
def test_without_the_file_the_collector_is_unavailable(name: str, tmp_path: Path) -> None:
    with pytest.raises(CollectorUnavailable):
        collect(name, tmp_path)


@pytest.mark.parametrize(
    ("name", "line", "problem"),
    [
        ("nfs", "proc3 22 1 2 3\n", "invalid proc3 line"),
        ("nfs", "rpc 1 2 x\n", "invalid NFS line"),
        ("nfs", "net 1 2 3\n", "invalid net line"),
        ("nfs", "proc4\n", "invalid NFS line"),
        ("nfsd", "proc4 3 1 2 3\n", "invalid proc4 line"),
        ("nfsd", "proc4ops 20 " + "0 " * 20 + "\n", "invalid proc4ops line"),
        ("nfsd", "th 8\n", "invalid th line"),
    ],
)
def test_malformed_lines_fail_the_collection_naming_the_line(
    name: str, line: str, problem: str, tmp_path: Path
) -> None:
    rpc = tmp_path / "net" / "rpc"
    rpc.mkdir(parents=True)
    (rpc / name).write_text(line)
    with pytest.raises(ValueError, match=problem):
        collect(name, tmp_path)


def test_nfsd_lines_of_newer_kernels_are_skipped_not_fatal(tmp_path: Path) -> None:
    # procfs fails the whole file on a line it does not know; a new kernel line costs nothing.
    rpc = tmp_path / "net" / "rpc"
    rpc.mkdir(parents=True)
    (rpc / "nfsd").write_text("rc 1 2 3\nsome_future_line 4 0.5 x\n")
    found = samples(NfsdCollector(CollectorContext(paths=HostPaths(procfs=tmp_path))))
    assert found[("node_nfsd_reply_cache_hits_total", ())] == 1
