"""Listeners collector: /proc/net tables in the kernel's format, netlink, and real sockets."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from exporter.collector import CollectorContext, HostPaths
from exporter.collectors.listeners import (
    AllowEntry,
    Listener,
    ListenersCollector,
    ListenersConfig,
    decode_address,
    from_netlink,
    from_procfs,
    parse_table,
)
from exporter.exposition import render_text
from servicekit.loader import Loader
from tests import seccomp
from tests.procs import REPO
from tests.registry import Found, collected

TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:C6BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 16452 1 00000000e5d1a21f 100 0 0 10 0
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 574 1 000000002ee1cfbe 100 0 0 10 0
   3: 0100007F:AC9E 0100007F:ABF3 06 00000000:00000000 03:0000165E 00000000     0        0 0 3 000000002f639579
   4: 0100007F:0050 0100007F:ABF3 01 00000000:00000000 03:0000165E 00000000     0        0 777 3 000000002f639579
"""  # noqa: E501 - the kernel's own line format
TCP6 = """  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9001 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9002 1 0000000000000000 100 0 0 10 0
"""  # noqa: E501 - the kernel's own line format
UDP = """   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 4242 2 0000000000000000 0
  124: 0100007F:9C40 0100007F:0035 01 00000000:00000000 00:00000000 00000000   101        0 4243 2 0000000000000000 0
"""  # noqa: E501 - the kernel's own line format


def test_decode_addresses() -> None:
    assert decode_address("0100007F") == "127.0.0.1"
    assert decode_address("3500007F") == "127.0.0.53"
    assert decode_address("00000000000000000000000001000000") == "::1"
    assert decode_address("0000000000000000FFFF00000100007F") == "::ffff:127.0.0.1"
    assert decode_address("B80D0120000000000000000001000000") == "2001:db8::1"


def test_parse_only_listeners() -> None:
    tcp = list(parse_table(TCP, "tcp"))
    assert [(ln.address, ln.port, ln.inode) for ln in tcp] == [
        ("127.0.0.1", 0xC6BB, 16452),
        ("0.0.0.0", 22, 574),
    ]
    udp = list(parse_table(UDP, "udp"))
    assert [(ln.address, ln.port) for ln in udp] == [("127.0.0.53", 53)]


@pytest.fixture
def fake_proc(tmp_path: Path) -> Path:
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "tcp").write_text(TCP)
    (tmp_path / "net" / "tcp6").write_text(TCP6)
    (tmp_path / "net" / "udp").write_text(UDP)
    # A process owning the :8080 socket, as /proc shows it.
    (tmp_path / "4321" / "fd").mkdir(parents=True)
    (tmp_path / "4321" / "comm").write_text("nc\n")
    (tmp_path / "4321" / "fd" / "3").symlink_to("socket:[9001]")
    (tmp_path / "4321" / "fd" / "4").symlink_to("/dev/null")
    return tmp_path


def collect(procfs: Path, cfg: ListenersConfig) -> Found:
    c = ListenersCollector(CollectorContext(paths=HostPaths(procfs=procfs), config=cfg))
    return collected(c.collect())


def test_counts_and_no_allowlist(fake_proc: Path) -> None:
    found = collect(fake_proc, ListenersConfig())
    assert found["tocsin_listening_sockets"] == {
        ("tcp",): 2.0,
        ("tcp6",): 2.0,
        ("udp",): 1.0,
        ("udp6",): 0.0,
    }
    assert "tocsin_unexpected_listeners" not in found


def test_allowlist_by_port_range_protocol_address_and_process(fake_proc: Path) -> None:
    cfg = ListenersConfig(
        allowlist=[
            AllowEntry(port=22, protocol="tcp"),
            AllowEntry(port=53, protocol="udp", address="127.0.0.53"),
            AllowEntry(port=631, address="::1"),
            AllowEntry(port=8000, port_end=8100, process=re.compile("nginx")),
        ]
    )
    found = collect(fake_proc, cfg)
    assert found["tocsin_unexpected_listeners"] == {(): 2.0}
    assert found["tocsin_unexpected_listener_info"] == {
        ("tcp", "127.0.0.1", str(0xC6BB), ""): 1.0,
        ("tcp6", "::", "8080", "nc"): 1.0,
    }
    cfg.allowlist[3].process = re.compile("nc")  # type: ignore[index]
    found = collect(fake_proc, cfg)
    assert found["tocsin_unexpected_listeners"] == {(): 1.0}


def test_cap_on_info_series(fake_proc: Path) -> None:
    found = collect(fake_proc, ListenersConfig(allowlist=[], max_unexpected_series=2))
    assert found["tocsin_unexpected_listeners"] == {(): 5.0}
    assert len(found["tocsin_unexpected_listener_info"]) == 2
    assert found["tocsin_unexpected_listener_info_dropped"] == {(): 3.0}


@pytest.fixture
def real_sockets() -> Iterator[tuple[int, int]]:
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    try:
        yield tcp.getsockname()[1], udp.getsockname()[1]
    finally:
        tcp.close()
        udp.close()


def test_real_sockets_are_found_with_their_process(real_sockets: tuple[int, int]) -> None:
    tcp_port, udp_port = real_sockets
    comm = Path("/proc/self/comm").read_text().strip()
    found = collect(Path("/proc"), ListenersConfig(allowlist=[]))
    info = found["tocsin_unexpected_listener_info"]
    assert info[("tcp", "127.0.0.1", str(tcp_port), comm)] == 1.0
    assert info[("udp", "127.0.0.1", str(udp_port), comm)] == 1.0
    assert found["tocsin_listening_sockets"][("tcp",)] >= 1.0

    allowed = ListenersConfig(
        allowlist=[
            AllowEntry(port=tcp_port, protocol="tcp"),
            AllowEntry(port=udp_port, process=re.compile(comm)),
        ]
    )
    info = collect(Path("/proc"), allowed).get("tocsin_unexpected_listener_info", {})
    assert not [k for k in info if k[2] in {str(tcp_port), str(udp_port)}]


def _v6_sockets() -> list[socket.socket]:
    """A TCP listener and a bound UDP socket on ::1, where the host has IPv6."""
    opened = []
    try:
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            sock = socket.socket(socket.AF_INET6, kind)
            opened.append(sock)
            sock.bind(("::1", 0))
            if kind == socket.SOCK_STREAM:
                sock.listen()
    except OSError:
        for sock in opened:
            sock.close()
        return []
    return opened


@pytest.fixture
def v6_sockets() -> Iterator[list[socket.socket]]:
    opened = _v6_sockets()
    try:
        yield opened
    finally:
        for sock in opened:
            sock.close()


def test_netlink_finds_a_real_listening_socket(
    real_sockets: tuple[int, int], v6_sockets: list[socket.socket]
) -> None:
    tcp_port, udp_port = real_sockets
    refused: dict[str, OSError] = {}
    found = from_netlink(["tcp", "tcp6", "udp", "udp6"], refused)
    if refused.get("tcp") is not None:
        pytest.skip(f"netlink sock_diag is not offered here: {refused['tcp']}")
    ours = {(ln.protocol, ln.address, ln.port) for ln in found}
    assert ("tcp", "127.0.0.1", tcp_port) in ours
    if "udp" not in refused:  # udp_diag is a module of its own
        assert ("udp", "127.0.0.1", udp_port) in ours
    for sock in v6_sockets:
        protocol = "tcp6" if sock.type == socket.SOCK_STREAM else "udp6"
        if protocol not in refused:
            expected = Listener(
                protocol, "::1", sock.getsockname()[1], os.fstat(sock.fileno()).st_ino
            )
            assert expected in found


def _sorted(listeners: list[Listener]) -> list[Listener]:
    return sorted(listeners, key=lambda ln: (ln.protocol, ln.address, ln.port, ln.inode))


def test_netlink_and_the_proc_tables_give_the_same_sockets(
    real_sockets: tuple[int, int], v6_sockets: list[socket.socket]
) -> None:
    protocols = ["tcp", "tcp6", "udp", "udp6"]
    refused: dict[str, OSError] = {}
    from_netlink(protocols, refused)
    asked = [p for p in protocols if p not in refused]
    if not asked:
        pytest.skip(f"netlink sock_diag is not offered here: {refused}")
    # Other work on the host opens and closes sockets: a comparison counts only when
    # two table reads around the netlink answer agree with each other.
    for _ in range(10):
        before = _sorted(from_procfs(HostPaths(), asked)[0])
        via_netlink = _sorted(from_netlink(asked))
        after = _sorted(from_procfs(HostPaths(), asked)[0])
        if before == after:
            assert via_netlink == before
            return
    pytest.fail("the host's sockets never held still for two table reads")


def test_the_collector_uses_netlink_on_a_live_procfs_only(fake_proc: Path) -> None:
    live = ListenersCollector(CollectorContext(paths=HostPaths()))
    refused: dict[str, OSError] = {}
    from_netlink(["tcp"], refused)
    if refused:
        pytest.skip(f"netlink sock_diag is not offered here: {refused}")
    assert "tcp" in live.netlink
    copy = ListenersCollector(CollectorContext(paths=HostPaths(procfs=fake_proc)))
    assert copy.netlink == set()


# In a child, since a seccomp filter cannot be taken back: the collector asks netlink,
# is refused, and renders from /proc/net instead.
_REFUSED_CHILD = textwrap.dedent(
    """
    import json
    from exporter.collector import CollectorContext
    from exporter.collectors.listeners import ListenersCollector, ListenersConfig
    from exporter.exposition import render_text
    from tests import seccomp

    seccomp.refuse_netlink()
    collector = ListenersCollector(CollectorContext(config=ListenersConfig(allowlist=[])))
    asked = sorted(collector.netlink)
    text = render_text(list(collector.collect())).decode()
    print(json.dumps({"asked": asked, "left": sorted(collector.netlink), "text": text}))
    """
)


def test_when_netlink_is_refused_the_proc_tables_give_the_same_families(
    real_sockets: tuple[int, int], v6_sockets: list[socket.socket]
) -> None:
    if not seccomp.supported():
        pytest.skip("no seccomp filter for this architecture")
    config = ListenersConfig(allowlist=[])
    collector = ListenersCollector(CollectorContext(config=config))
    if not collector.netlink:
        pytest.skip("procfs here is not a live one")

    def ours() -> str:
        return render_text(list(collector.collect())).decode()

    for _ in range(10):
        before = ours()
        if collector.netlink != set(config.protocols):
            pytest.skip("netlink sock_diag is not offered here for every protocol")
        out = subprocess.run(
            [sys.executable, "-c", _REFUSED_CHILD],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        child = json.loads(out.stdout.splitlines()[-1])
        assert child["asked"] == ["tcp", "tcp6", "udp", "udp6"]
        assert child["left"] == []
        assert "listeners_netlink_refused" in out.stdout + out.stderr
        if before == ours():
            assert child["text"] == before
            assert f'port="{real_sockets[0]}"' in before
            return
    pytest.fail("the host's sockets never held still for two collections")


def test_config_problems() -> None:
    loader = Loader("x.yml")
    loader.load(
        ListenersConfig,
        {"allowlist": [{"port": 70000}, {"port": 10, "port_end": 5}, {"port": 1, "address": "x"}]},
        "collectors.listeners",
    )
    assert {p.key for p in loader.problems} == {
        "collectors.listeners.allowlist[0].port",
        "collectors.listeners.allowlist[1].port_end",
        "collectors.listeners.allowlist[2].address",
    }
