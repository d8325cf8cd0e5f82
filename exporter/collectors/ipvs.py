"""ipvs: IP Virtual Server totals and per-backend state, as node_exporter's ipvs.

`/proc/net/ip_vs_stats` carries hexadecimal totals; `/proc/net/ip_vs` lists each virtual
service (TCP/UDP address:port in hex, or a firewall mark) and its real servers. Backends
whose chosen labels coincide are summed, as node_exporter does.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import counter, gauge
from exporter.procfs import read_required, read_text

BackendLabel = Literal[
    "local_address", "local_port", "remote_address", "remote_port", "proto", "local_mark"
]
ALL_BACKEND_LABELS: tuple[BackendLabel, ...] = (
    "local_address",
    "local_port",
    "remote_address",
    "remote_port",
    "proto",
    "local_mark",
)
_TOTALS = (
    ("node_ipvs_connections_total", "The total number of connections made."),
    ("node_ipvs_incoming_packets_total", "The total number of incoming packets."),
    ("node_ipvs_outgoing_packets_total", "The total number of outgoing packets."),
    ("node_ipvs_incoming_bytes_total", "The total amount of incoming data."),
    ("node_ipvs_outgoing_bytes_total", "The total amount of outgoing data."),
)


@dataclass
class IpvsConfig:
    """`collectors.ipvs`: --collector.ipvs.backend-labels, as a list."""

    backend_labels: list[BackendLabel] = field(default_factory=lambda: list(ALL_BACKEND_LABELS))


def parse_stats(text: str) -> list[int]:
    """The five totals (connections, packets in/out, bytes in/out) of ip_vs_stats."""
    lines = text.split("\n", 3)
    if len(lines) != 4:
        raise ValueError("ip_vs_stats corrupt: too short")
    fields = lines[2].split()
    if len(fields) != 5:
        raise ValueError("ip_vs_stats corrupt: unexpected number of fields")
    return [int(f, 16) for f in fields]


def parse_address(text: str) -> tuple[str, int]:
    """`C0A80016:0CEA` or `[2001:0db8:...:0001]:0050` → (address as Go prints it, port)."""
    if len(text) == 13:
        address = str(ipaddress.IPv4Address(bytes.fromhex(text[:8])))
    elif len(text) == 46:
        ip6 = ipaddress.IPv6Address(text[1:40])
        # Go's net.IP prints an IPv4-mapped address in dotted form.
        address = str(ip6.ipv4_mapped or ip6)
    else:
        raise ValueError(f"unexpected IP:Port {text!r}")
    return address, int(text[-4:], 16)


def parse_backends(text: str) -> list[dict[str, str | int]]:
    """One entry per real server: label values plus weight and connection counts."""
    backends: list[dict[str, str | int]] = []
    service: dict[str, str | int] = {}
    for line in text.splitlines():
        fields = line.split()
        if not fields or fields[0] in ("IP", "Prot") or fields[1:2] == ["RemoteAddress:Port"]:
            continue
        if fields[0] in ("TCP", "UDP") and len(fields) >= 2:
            address, port = parse_address(fields[1])
            service = {"proto": fields[0], "local_mark": "", "local_address": address}
            service["local_port"] = str(port)
        elif fields[0] == "FWM" and len(fields) >= 2:
            service = {"proto": "FWM", "local_mark": fields[1], "local_address": ""}
            service["local_port"] = "0"
        elif fields[0] == "->" and len(fields) >= 6:
            address, port = parse_address(fields[1])
            backends.append(
                {
                    **service,
                    "remote_address": address,
                    "remote_port": str(port),
                    "weight": int(fields[3]),
                    "active": int(fields[4]),
                    "inactive": int(fields[5]),
                }
            )
    return backends


@register
class IpvsCollector(Collector):
    """IPVS connection, packet and byte totals; active/inactive connections and weight."""

    name = "ipvs"
    description = "IPVS statistics from /proc/net/ip_vs and /proc/net/ip_vs_stats"
    Config = IpvsConfig
    config: IpvsConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._stats = str(self.paths.proc("net/ip_vs_stats"))
        self._backends = str(self.paths.proc("net/ip_vs"))
        # node_exporter's label order, whatever order the configuration lists them in.
        chosen = set(self.config.backend_labels)
        self._labels = [label for label in ALL_BACKEND_LABELS if label in chosen]

    def collect(self) -> Iterable[Metric]:
        totals = parse_stats(read_required(self._stats))
        for (name, help_text), value in zip(_TOTALS, totals, strict=True):
            yield counter(name, help_text, value=value)
        sums: dict[tuple[str, ...], list[int]] = {}
        for backend in parse_backends(read_text(self._backends)):
            key = tuple(str(backend[label]) for label in self._labels)
            total = sums.setdefault(key, [0, 0, 0])
            total[0] += int(backend["active"])
            total[1] += int(backend["inactive"])
            total[2] += int(backend["weight"])
        families = (
            gauge(
                "node_ipvs_backend_connections_active",
                "The current active connections by local and remote address.",
                self._labels,
            ),
            gauge(
                "node_ipvs_backend_connections_inactive",
                "The current inactive connections by local and remote address.",
                self._labels,
            ),
            gauge(
                "node_ipvs_backend_weight",
                "The current backend weight by local and remote address.",
                self._labels,
            ),
        )
        for key, values in sums.items():
            for family, value in zip(families, values, strict=True):
                family.values.append((key, float(value)))
        if sums:
            yield from families
