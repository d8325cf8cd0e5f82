"""Listeners collector: /proc/net tables in the kernel's format, and real sockets."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from exporter.collector import CollectorContext, HostPaths
from exporter.collectors.listeners import (
    AllowEntry,
    ListenersCollector,
    ListenersConfig,
    decode_address,
    parse_table,
)
from servicekit.loader import Loader
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
