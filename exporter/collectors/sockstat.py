"""sockstat: socket counts and memory by protocol from /proc/net/sockstat and sockstat6.

Lines read `TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 3`; each known field becomes
`node_sockstat_<PROTOCOL>_<field>`, and `mem` (pages) also `..._mem_bytes`, as in
node_exporter. Either file may be absent (no IPv6): the other is still reported.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, register
from exporter.families import gauge
from exporter.procfs import read_text

# node_exporter's order of a protocol's fields; others are ignored, as procfs does.
_FIELDS = ("inuse", "orphan", "tw", "alloc", "mem", "memory")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def parse_sockstat(text: str) -> tuple[int | None, list[tuple[str, dict[str, int]]]]:
    """(`sockets: used`, [(protocol, {field: value})]) in file order."""
    used = None
    protocols = []
    for line in text.splitlines():
        head, sep, rest = line.partition(":")
        if not sep:
            continue
        words = rest.split()
        if len(words) % 2:
            raise ValueError(f"malformed sockstat line: {line}")
        fields = {words[i]: int(words[i + 1]) for i in range(0, len(words), 2)}
        if head == "sockets":
            used = fields.get("used")
        else:
            protocols.append((head, fields))
    return used, protocols


@register
class SockstatCollector(Collector):
    """Sockets in use per protocol (TCP, UDP, RAW, FRAG, ... and their IPv6 twins)."""

    name = "sockstat"
    description = "socket statistics from /proc/net/sockstat and /proc/net/sockstat6"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._files = [str(self.paths.proc("net", n)) for n in ("sockstat", "sockstat6")]

    def collect(self) -> Iterable[Metric]:
        found = 0
        for ipv6, path in enumerate(self._files):
            try:
                used, protocols = parse_sockstat(read_text(path))
            except FileNotFoundError:
                continue
            found += 1
            if not ipv6 and used is not None:
                yield gauge(
                    "node_sockstat_sockets_used",
                    "Number of IPv4 sockets in use.",
                    value=float(used),
                )
            for protocol, fields in protocols:
                yield from _protocol_families(protocol, fields)
        if not found:
            raise CollectorUnavailable("neither /proc/net/sockstat nor sockstat6 exists")


def _protocol_families(protocol: str, fields: dict[str, int]) -> Iterable[Metric]:
    pairs = [(f, fields[f]) for f in _FIELDS if f in fields]
    if "mem" in fields:
        pairs.append(("mem_bytes", fields["mem"] * PAGE_SIZE))
    for field, value in pairs:
        yield gauge(
            f"node_sockstat_{protocol}_{field}",
            f"Number of {protocol} sockets in state {field}.",
            value=float(value),
        )
