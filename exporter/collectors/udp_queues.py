"""udp_queues: bytes queued in UDP sockets' send and receive buffers, as node_exporter.

/proc/net/udp and udp6 list one socket per line with `tx_queue:rx_queue` in hexadecimal
(the fifth column); the collector sums each over all sockets. A missing file (no IPv6)
leaves its `ip` out; both missing means unavailable.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, register
from exporter.families import gauge
from exporter.procfs import read_text

_QUEUES_COLUMN = 4


def sum_queues(text: str) -> tuple[int, int]:
    """(tx, rx) bytes summed over the sockets of /proc/net/udp or udp6."""
    tx = rx = 0
    for line in text.splitlines()[1:]:
        columns = line.split()
        if not columns:
            continue
        if len(columns) <= _QUEUES_COLUMN:
            raise ValueError(f"unexpected udp socket line: {line}")
        tx_raw, sep, rx_raw = columns[_QUEUES_COLUMN].partition(":")
        if not sep:
            raise ValueError(f"unexpected udp queue column: {columns[_QUEUES_COLUMN]}")
        tx += int(tx_raw, 16)
        rx += int(rx_raw, 16)
    return tx, rx


@register
class UdpQueuesCollector(Collector):
    """Memory the kernel holds for queued UDP datagrams, per direction and IP version."""

    name = "udp_queues"
    description = "UDP socket queue lengths from /proc/net/udp and /proc/net/udp6"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._files = [
            ("v4", str(self.paths.proc("net/udp"))),
            ("v6", str(self.paths.proc("net/udp6"))),
        ]

    def collect(self) -> Iterable[Metric]:
        family = gauge(
            "node_udp_queues",
            "Number of allocated memory in the kernel for UDP datagrams in bytes.",
            ["queue", "ip"],
        )
        for ip, path in self._files:
            try:
                tx, rx = sum_queues(read_text(path))
            except FileNotFoundError:
                continue
            family.values.append((("tx", ip), float(tx)))
            family.values.append((("rx", ip), float(rx)))
        if not family.values:
            raise CollectorUnavailable("neither /proc/net/udp nor /proc/net/udp6 exists")
        yield family
