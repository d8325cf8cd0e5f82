"""Listening sockets, checked against an allowlist.

The sockets come from netlink `sock_diag` (`exporter.sockdiag`) when the configured procfs
is a live one, and from /proc/net/{tcp,tcp6,udp,udp6} where netlink is refused (a seccomp
filter, no `udp_diag` module) or procfs is a copy: both give the same sockets, but the
tables cost the kernel a walk of every socket it has, listening or not.

Sockets are mapped to their owning process (via /proc/<pid>/fd) only when the allowlist
needs a process name or a listener is unexpected, because that walk costs far more than
reading the socket tables.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.collector import (
    Collector,
    CollectorContext,
    CollectorUnavailable,
    HostPaths,
    register,
)
from exporter.sockdiag import TCP_CLOSE, TCP_LISTEN, SockDiag

log = structlog.get_logger(__name__)

ProtocolName = Literal["tcp", "tcp6", "udp", "udp6"]
PROTOCOLS: tuple[ProtocolName, ...] = ("tcp", "tcp6", "udp", "udp6")
_TCP_LISTEN = "0A"
_UDP_UNCONNECTED = "07"
# The netlink dump that gives the same sockets as each /proc/net table.
_DIAG_QUERIES: dict[str, tuple[int, int, int]] = {
    "tcp": (socket.AF_INET, socket.IPPROTO_TCP, TCP_LISTEN),
    "tcp6": (socket.AF_INET6, socket.IPPROTO_TCP, TCP_LISTEN),
    "udp": (socket.AF_INET, socket.IPPROTO_UDP, TCP_CLOSE),
    "udp6": (socket.AF_INET6, socket.IPPROTO_UDP, TCP_CLOSE),
}


@dataclass(frozen=True)
class Listener:
    """One listening socket."""

    protocol: str
    address: str
    port: int
    inode: int


@dataclass
class AllowEntry:
    """One allowed listener: a port (or range), optionally narrowed further."""

    port: int
    port_end: int | None = None
    protocol: Literal["tcp", "udp"] | None = None
    address: str | None = None
    process: re.Pattern[str] | None = None

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if not 0 <= self.port <= 65535:
            problems.append(("port", "expected a port number 0-65535"))
        if self.port_end is not None and not self.port <= self.port_end <= 65535:
            problems.append(("port_end", "expected a port number >= port and <= 65535"))
        if self.address is not None:
            try:
                ipaddress.ip_address(self.address)
            except ValueError:
                problems.append(("address", f"expected an IP address, got {self.address!r}"))
        return problems

    def matches(self, listener: Listener, process: str | None) -> bool:
        """True when this entry allows the listener; `process` is None when unknown."""
        end = self.port_end if self.port_end is not None else self.port
        if not self.port <= listener.port <= end:
            return False
        if self.protocol and not listener.protocol.startswith(self.protocol):
            return False
        if self.address and ipaddress.ip_address(self.address) != ipaddress.ip_address(
            listener.address
        ):
            return False
        return self.process is None or (
            process is not None and self.process.fullmatch(process) is not None
        )


@dataclass
class ListenersConfig:
    """`collectors.listeners`: without an allowlist only the counts are reported."""

    allowlist: list[AllowEntry] | None = None
    max_unexpected_series: int = 50
    protocols: list[ProtocolName] = field(default_factory=lambda: list(PROTOCOLS))

    def validate(self) -> list[tuple[str, str]]:
        if self.max_unexpected_series < 0:
            return [("max_unexpected_series", "expected a non-negative integer")]
        return []


def decode_address(hex_addr: str) -> str:
    """An address from /proc/net/*: hex words in host (little-endian) byte order."""
    raw = bytes.fromhex(hex_addr)
    return format_address(b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4)))


def format_address(raw: bytes) -> str:
    """An address in network byte order (4 or 16 bytes) as `ss` prints it."""
    ip = ipaddress.ip_address(raw)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        # Python < 3.13 prints these as ::ffff:7f00:1; `ss` and `netstat` do not.
        return f"::ffff:{ip.ipv4_mapped}"
    return str(ip)


def parse_table(text: str, protocol: str) -> Iterator[Listener]:
    """Listening (TCP) or unconnected bound (UDP) sockets in one /proc/net table."""
    wanted = _TCP_LISTEN if protocol.startswith("tcp") else _UDP_UNCONNECTED
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 10 or parts[3] != wanted:
            continue
        addr, _, port = parts[1].partition(":")
        yield Listener(protocol, decode_address(addr), int(port, 16), int(parts[9]))


def is_live_procfs(paths: HostPaths) -> bool:
    """Whether procfs is a mounted procfs, whose net/ shows this process's own network
    namespace (a symlink to self/net), which is what netlink answers for."""
    try:
        return os.readlink(paths.proc("net")) == "self/net"
    except OSError:
        return False


def from_netlink(
    protocols: Iterable[str], refused: dict[str, OSError] | None = None
) -> list[Listener]:
    """The listening sockets of `protocols` through netlink; the protocols the kernel
    refused go into `refused` with the error (all of them when netlink is not offered)."""
    refused = {} if refused is None else refused
    wanted = list(protocols)
    found: list[Listener] = []
    try:
        diag = SockDiag()
    except OSError as exc:
        refused.update(dict.fromkeys(wanted, exc))
        return found
    with diag:
        for protocol in wanted:
            try:
                sockets = diag.dump(*_DIAG_QUERIES[protocol])
            except OSError as exc:
                refused[protocol] = exc
                continue
            found.extend(
                Listener(protocol, format_address(s.address), s.port, s.inode) for s in sockets
            )
    return found


def from_procfs(paths: HostPaths, protocols: Iterable[str]) -> tuple[list[Listener], bool]:
    """The listening sockets in the /proc/net tables of `protocols`, and whether any of
    those tables exists."""
    found: list[Listener] = []
    readable = False
    for protocol in protocols:
        try:
            text = paths.proc("net", protocol).read_text(encoding="ascii")
        except FileNotFoundError:
            continue  # e.g. IPv6 disabled
        readable = True
        found.extend(parse_table(text, protocol))
    return found, readable


@register
class ListenersCollector(Collector):
    """Counts listening sockets and reports those not on the allowlist."""

    name = "listeners"
    default_enabled = True
    description = "listening TCP/UDP sockets, and those not on an allowlist"
    Config = ListenersConfig
    config: ListenersConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        # The protocols still asked of netlink; one the kernel refuses is read from
        # /proc/net from then on (a refusal is about the host, not this moment).
        self.netlink: set[str] = set(self.config.protocols) if is_live_procfs(self.paths) else set()

    def _listeners(self) -> list[Listener]:
        asked = [p for p in self.config.protocols if p in self.netlink]
        refused: dict[str, OSError] = {}
        found = from_netlink(asked, refused) if asked else []
        if refused:
            self.netlink.difference_update(refused)
            log.info(
                "listeners_netlink_refused",
                protocols=",".join(sorted(refused)),
                error=str(next(iter(refused.values()))),
                fallback="/proc/net",
            )
        tables = [p for p in self.config.protocols if p not in self.netlink]
        from_tables, readable = from_procfs(self.paths, tables)
        if not readable and len(tables) == len(self.config.protocols):
            raise CollectorUnavailable("no /proc/net/{tcp,udp}[6] tables")
        return found + from_tables

    def _owners(self, inodes: set[int]) -> dict[int, str]:
        """Process name (comm) owning each socket inode, where /proc lets us see it."""
        owners: dict[int, str] = {}
        wanted = {f"socket:[{i}]": i for i in inodes}
        proc = self.paths.proc()
        try:
            pids = [p for p in os.listdir(proc) if p.isdigit()]
        except OSError:
            return owners
        for pid in pids:
            fd_dir = proc / pid / "fd"
            try:
                fds = os.listdir(fd_dir)
            except OSError:
                continue  # exited, or not ours to look at
            for fd in fds:
                try:
                    target = os.readlink(fd_dir / fd)
                except OSError:
                    continue
                inode = wanted.get(target)
                if inode is None or inode in owners:
                    continue
                try:
                    comm = (proc / pid / "comm").read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                owners[inode] = comm.strip()
            if len(owners) == len(wanted):
                break
        return owners

    def _unexpected(
        self, listeners: list[Listener], allow: list[AllowEntry]
    ) -> list[tuple[Listener, str]]:
        needs_process = any(e.process is not None for e in allow)
        candidates = [ln for ln in listeners if not any(e.matches(ln, None) for e in allow)]
        if not candidates:
            return []
        owners = self._owners({ln.inode for ln in candidates})
        unexpected: list[tuple[Listener, str]] = []
        for ln in candidates:
            process = owners.get(ln.inode)
            if needs_process and any(e.matches(ln, process) for e in allow):
                continue
            unexpected.append((ln, process or ""))
        return unexpected

    def collect(self) -> Iterable[Metric]:
        listeners = self._listeners()
        counts = Counter(ln.protocol for ln in listeners)
        sockets = GaugeMetricFamily(
            "tocsin_listening_sockets",
            "Listening TCP sockets and bound unconnected UDP sockets.",
            labels=["protocol"],
        )
        for protocol in self.config.protocols:
            sockets.add_metric([protocol], float(counts.get(protocol, 0)))
        yield sockets
        if self.config.allowlist is None:
            return
        unexpected = self._unexpected(listeners, self.config.allowlist)
        total = GaugeMetricFamily(
            "tocsin_unexpected_listeners",
            "Listening sockets that no allowlist entry allows.",
        )
        total.add_metric([], float(len(unexpected)))
        yield total
        info = GaugeMetricFamily(
            "tocsin_unexpected_listener_info",
            "One series per unexpected listener (value: sockets with these labels).",
            labels=["protocol", "address", "port", "process"],
        )
        series = Counter((ln.protocol, ln.address, str(ln.port), proc) for ln, proc in unexpected)
        for labels, n in sorted(series.items())[: self.config.max_unexpected_series]:
            info.add_metric(list(labels), float(n))
        yield info
        shown = GaugeMetricFamily(
            "tocsin_unexpected_listener_info_dropped",
            "Unexpected-listener series left out because of max_unexpected_series.",
        )
        shown.add_metric([], float(max(0, len(series) - self.config.max_unexpected_series)))
        yield shown
