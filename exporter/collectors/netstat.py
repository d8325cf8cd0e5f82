"""netstat: selected IP, ICMP, TCP and UDP counters from /proc/net/{netstat,snmp,snmp6}.

netstat and snmp come in line pairs (`Tcp: ActiveOpens PassiveOpens ...` then
`Tcp: 882 55 ...`); snmp6 has one `Ip6InOctets 20696` per line, its protocol ending at
the first `6`. Each `<Protocol>_<Field>` the `fields` pattern matches becomes the untyped
`node_netstat_<Protocol>_<Field>`, as node_exporter. snmp6 is absent when IPv6 is off.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import untyped
from exporter.procfs import read_required, read_text

# node_exporter's --collector.netstat.fields default (1.9.0 added TCPOFOQueue, TCPRcvQDrop).
DEFAULT_FIELDS = (
    r"^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)"
    r"|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPOFOQueue|TCPRcvQDrop)"
    r"|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)"
    r"|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$"
)
_FIELDS = re.compile(DEFAULT_FIELDS)

# (protocol, field, value) as the files spell them.
Stat = tuple[str, str, str]


@dataclass
class NetstatConfig:
    """`collectors.netstat`: which `<Protocol>_<Field>` counters to export."""

    fields: re.Pattern[str] = _FIELDS


def parse_paired(text: str, path: str) -> list[Stat]:
    """The stats of a netstat/snmp file: a line of names, then a line of values."""
    lines = [line for line in text.splitlines() if line]
    if len(lines) % 2:
        raise ValueError(f"{path}: odd number of lines")
    stats: list[Stat] = []
    for names_line, values_line in zip(lines[::2], lines[1::2], strict=True):
        names, values = names_line.split(), values_line.split()
        protocol = names[0].removesuffix(":")
        if len(names) != len(values) or values[0].removesuffix(":") != protocol:
            raise ValueError(f"{path}: field count mismatch for {protocol}")
        stats.extend((protocol, n, v) for n, v in zip(names[1:], values[1:], strict=True))
    return stats


def parse_snmp6(text: str) -> list[Stat]:
    """The stats of /proc/net/snmp6: `<Protocol>6<Field> value` per line."""
    stats = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 2:
            continue
        six = words[0].find("6")
        if six != -1:
            stats.append((words[0][: six + 1], words[0][six + 1 :], words[1]))
    return stats


@register
class NetstatCollector(Collector):
    """Network protocol counters: segments, retransmits, listen drops, datagrams, errors."""

    name = "netstat"
    description = "network protocol statistics from /proc/net/{netstat,snmp,snmp6}"
    Config = NetstatConfig
    config: NetstatConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._netstat = str(self.paths.proc("net/netstat"))
        self._snmp = str(self.paths.proc("net/snmp"))
        self._snmp6 = str(self.paths.proc("net/snmp6"))
        # The kernel's set of fields is fixed: each key is matched against the pattern once.
        self._wanted: dict[tuple[str, str], tuple[str, str] | None] = {}

    def _metric(self, protocol: str, field: str) -> tuple[str, str] | None:
        """(name, help) for a stat, or None when the pattern leaves it out."""
        key = (protocol, field)
        try:
            return self._wanted[key]
        except KeyError:
            found = None
            if self.config.fields.search(f"{protocol}_{field}"):
                found = (f"node_netstat_{protocol}_{field}", f"Statistic {protocol}{field}.")
            self._wanted[key] = found
            return found

    def collect(self) -> Iterable[Metric]:
        stats = parse_paired(read_required(self._netstat), self._netstat)
        stats += parse_paired(read_required(self._snmp), self._snmp)
        with contextlib.suppress(FileNotFoundError):  # no snmp6: IPv6 is disabled
            stats += parse_snmp6(read_text(self._snmp6))
        # A later file wins on a repeated name, as node_exporter's map merge does.
        chosen: dict[str, tuple[str, float]] = {}
        for protocol, field, raw in stats:
            metric = self._metric(protocol, field)
            if metric is not None:
                chosen[metric[0]] = (metric[1], float(raw))
        for name, (documentation, value) in chosen.items():
            yield untyped(name, documentation, value=value)
