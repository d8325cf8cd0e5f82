"""nfs: NFS client RPC statistics from /proc/net/rpc/nfs, as node_exporter's nfs.

Lines are checked as prometheus/procfs checks them (a `proc<N>` line starts with its own
value count); a line that fails those checks fails the collection. A version the kernel
does not print (no `proc2` without CONFIG_NFS_V2) is sent as zeros, as node_exporter does.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import Family, counter
from exporter.procfs import read_required

# Method names in node_exporter's order; each value's index in its `proc<N>` line.
V2_METHODS = [
    "Null",
    "GetAttr",
    "SetAttr",
    "Root",
    "Lookup",
    "ReadLink",
    "Read",
    "WrCache",
    "Write",
    "Create",
    "Remove",
    "Rename",
    "Link",
    "SymLink",
    "MkDir",
    "RmDir",
    "ReadDir",
    "FsStat",
]
V3_METHODS = [
    "Null",
    "GetAttr",
    "SetAttr",
    "Lookup",
    "Access",
    "ReadLink",
    "Read",
    "Write",
    "Create",
    "MkDir",
    "SymLink",
    "MkNod",
    "Remove",
    "RmDir",
    "Rename",
    "Link",
    "ReadDir",
    "ReadDirPlus",
    "FsStat",
    "FsInfo",
    "PathConf",
    "Commit",
]
# procfs reads GETDEVICEINFO before LAYOUTGET from the line but lists LayoutGet first.
_V4_ORDER = [
    "Null",
    "Read",
    "Write",
    "Commit",
    "Open",
    "OpenConfirm",
    "OpenNoattr",
    "OpenDowngrade",
    "Close",
    "Setattr",
    "FsInfo",
    "Renew",
    "SetClientID",
    "SetClientIDConfirm",
    "Lock",
    "Lockt",
    "Locku",
    "Access",
    "Getattr",
    "Lookup",
    "LookupRoot",
    "Remove",
    "Rename",
    "Link",
    "Symlink",
    "Create",
    "Pathconf",
    "StatFs",
    "ReadLink",
    "ReadDir",
    "ServerCaps",
    "DelegReturn",
    "GetACL",
    "SetACL",
    "FsLocations",
    "ReleaseLockowner",
    "Secinfo",
    "FsidPresent",
    "ExchangeID",
    "CreateSession",
    "DestroySession",
    "Sequence",
    "GetLeaseTime",
    "ReclaimComplete",
    "GetDeviceInfo",
    "LayoutGet",
    "LayoutCommit",
    "LayoutReturn",
    "SecinfoNoName",
    "TestStateID",
    "FreeStateID",
    "GetDeviceList",
    "BindConnToSession",
    "DestroyClientID",
    "Seek",
    "Allocate",
    "DeAllocate",
    "LayoutStats",
    "Clone",
]
_LINES = frozenset({"net", "rpc", "proc2", "proc3", "proc4"})
_V4_INDEX = {name: i for i, name in enumerate(_V4_ORDER)}
V4_METHODS = [*_V4_ORDER[:44], "LayoutGet", "GetDeviceInfo", *_V4_ORDER[46:]]


def parse_rpc_stats(text: str, kind: str, known: frozenset[str]) -> dict[str, list[int]]:
    """Label → integer values of the `known` lines; `th` keeps its two integer columns.

    A line with another label (one a newer kernel added) is skipped unread.
    """
    lines: dict[str, list[int]] = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 2:
            raise ValueError(f"invalid {kind} line {line!r}")
        if parts[0] not in known:
            continue
        fields = parts[1:3] if parts[0] == "th" else parts[1:]
        try:
            lines[parts[0]] = [int(v) for v in fields]
        except ValueError as exc:
            raise ValueError(f"invalid {kind} line {line!r}") from exc
    return lines


def fixed(lines: dict[str, list[int]], label: str, size: int, exact: bool = True) -> list[int]:
    """A line's values, all zero when absent; a wrong number of values is an error."""
    values = lines.get(label)
    if values is None:
        return [0] * size
    if (len(values) != size) if exact else (len(values) < size):
        raise ValueError(f"invalid {label} line: {len(values)} values")
    return values


def counted(
    lines: dict[str, list[int]], label: str, minimum: int, exact: int | None = None
) -> list[int]:
    """A `proc<N>` line's values after its count (zeros when absent), checked as procfs."""
    values = lines.get(label)
    if values is None:
        return [0] * max(minimum, exact or 0)
    count = values[0]
    if count != len(values) - 1 or count < minimum or (exact is not None and count != exact):
        raise ValueError(f"invalid {label} line: count {count}, {len(values) - 1} values")
    return values[1:]


@register
class NfsCollector(Collector):
    """NFS client network, RPC and per-procedure counters."""

    name = "nfs"
    description = "NFS client statistics from /proc/net/rpc/nfs"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._path = str(self.paths.proc("net/rpc/nfs"))

    def collect(self) -> Iterable[Metric]:
        lines = parse_rpc_stats(read_required(self._path), "NFS", _LINES)
        _net, udp, tcp, connect = fixed(lines, "net", 4)
        rpcs, retransmissions, refreshes = fixed(lines, "rpc", 3)
        packets = counter(
            "node_nfs_packets_total",
            "Total NFSd network packets (sent+received) by protocol type.",
            ["protocol"],
        )
        packets.values += [(("udp",), float(udp)), (("tcp",), float(tcp))]
        yield packets
        yield counter(
            "node_nfs_connections_total", "Total number of NFSd TCP connections.", value=connect
        )
        yield counter("node_nfs_rpcs_total", "Total number of RPCs performed.", value=rpcs)
        yield counter(
            "node_nfs_rpc_retransmissions_total",
            "Number of RPC transmissions performed.",
            value=retransmissions,
        )
        yield counter(
            "node_nfs_rpc_authentication_refreshes_total",
            "Number of RPC authentication refreshes performed.",
            value=refreshes,
        )
        yield self._requests(lines)

    @staticmethod
    def _requests(lines: dict[str, list[int]]) -> Family:
        requests = counter(
            "node_nfs_requests_total", "Number of NFS procedures invoked.", ["proto", "method"]
        )
        for proto, label, methods in (("2", "proc2", V2_METHODS), ("3", "proc3", V3_METHODS)):
            values = counted(lines, label, len(methods))
            requests.values += [
                ((proto, m), float(v)) for m, v in zip(methods, values, strict=False)
            ]
        # Older kernels print fewer NFSv4 operations: the missing ones are zero.
        v4 = counted(lines, "proc4", 0)
        v4 = v4 + [0] * (len(_V4_ORDER) - len(v4))
        requests.values += [(("4", m), float(v4[_V4_INDEX[m]])) for m in V4_METHODS]
        return requests
