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

# node_exporter's --collector.netstat.fields default (TCPOFOQueue since 1.8, TCPRcvQDrop 1.9).
DEFAULT_FIELDS = (
    r"^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)"
    r"|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPOFOQueue|TCPRcvQDrop)"
    r"|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)"
    r"|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$"
)
_FIELDS = re.compile(DEFAULT_FIELDS)

# (value column, metric name, help) of each exported field of a names line.
Plan = list[tuple[int, str, str]]


@dataclass
class NetstatConfig:
    """`collectors.netstat`: which `<Protocol>_<Field>` counters to export."""

    fields: re.Pattern[str] = _FIELDS


def _metric(protocol: str, field: str) -> tuple[str, str]:
    return f"node_netstat_{protocol}_{field}", f"Statistic {protocol}{field}."


def snmp6_key(key: str) -> tuple[str, str] | None:
    """(protocol, field) of an snmp6 key (`Ip6InOctets` → Ip6, InOctets), None without a 6."""
    six = key.find("6")
    return None if six == -1 else (key[: six + 1], key[six + 1 :])


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
        self._snmp6_path = str(self.paths.proc("net/snmp6"))
        # The kernel's field names are fixed: each names line is planned once (which
        # columns to export), and snmp6's exported lines are picked by a regex learned once.
        self._plans: dict[str, tuple[int, Plan]] = {}
        self._snmp6_learned: tuple[int, re.Pattern[str] | None] | None = None

    def _plan(self, names_line: str) -> tuple[int, Plan]:
        """(number of columns, the exported ones) of a names line."""
        names = names_line.split()
        protocol = names[0].removesuffix(":")
        plan = []
        for column, field in enumerate(names[1:], start=1):
            if self.config.fields.search(f"{protocol}_{field}"):
                plan.append((column, *_metric(protocol, field)))
        return len(names), plan

    def _paired(self, text: str, path: str, out: dict[str, tuple[str, float]]) -> None:
        """Add the exported stats of a netstat/snmp file: a names line, then a values line."""
        lines = [line for line in text.splitlines() if line]
        if len(lines) % 2:
            raise ValueError(f"{path}: odd number of lines")
        for names_line, values_line in zip(lines[::2], lines[1::2], strict=True):
            planned = self._plans.get(names_line)
            if planned is None:
                planned = self._plans[names_line] = self._plan(names_line)
            width, plan = planned
            values = values_line.split()
            head = names_line.split(" ", 1)[0]
            if len(values) != width or values[0] != head:
                raise ValueError(f"{path}: field count mismatch for {head.removesuffix(':')}")
            for column, name, documentation in plan:
                out[name] = (documentation, float(values[column]))

    def _learn_snmp6(self, text: str) -> re.Pattern[str] | None:
        keys = []
        for line in text.splitlines():
            words = line.split()
            parts = snmp6_key(words[0]) if len(words) >= 2 else None
            if parts is not None and self.config.fields.search(f"{parts[0]}_{parts[1]}"):
                keys.append(re.escape(words[0]))
        if not keys:
            return None
        return re.compile(rf"^({'|'.join(keys)})\s+(\S+)\s*$", re.MULTILINE)

    def _snmp6(self, text: str, out: dict[str, tuple[str, float]]) -> None:
        lines = text.count("\n")
        learned = self._snmp6_learned
        if learned is None or learned[0] != lines:
            learned = self._snmp6_learned = (lines, self._learn_snmp6(text))
        if learned[1] is None:
            return
        for key, raw in learned[1].findall(text):
            parts = snmp6_key(key)
            if parts is not None:
                name, documentation = _metric(*parts)
                out[name] = (documentation, float(raw))

    def collect(self) -> Iterable[Metric]:
        # A later file wins on a repeated name, as node_exporter's map merge does.
        chosen: dict[str, tuple[str, float]] = {}
        self._paired(read_required(self._netstat), self._netstat, chosen)
        self._paired(read_required(self._snmp), self._snmp, chosen)
        with contextlib.suppress(FileNotFoundError):  # no snmp6: IPv6 is disabled
            self._snmp6(read_text(self._snmp6_path), chosen)
        for name, (documentation, value) in chosen.items():
            yield untyped(name, documentation, value=value)
