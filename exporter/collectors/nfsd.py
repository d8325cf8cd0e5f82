"""nfsd: NFS server statistics from /proc/net/rpc/nfsd, as node_exporter's nfsd.

Lines the kernel no longer prints (`ra` since the read-ahead cache went, `proc2` without
CONFIG_NFSD_V2) are sent as zeros, as node_exporter does.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.collectors.nfs import (
    V2_METHODS,
    V3_METHODS,
    counted,
    fixed,
    parse_rpc_stats,
)
from exporter.families import Family, counter, gauge
from exporter.procfs import read_required

# NFSv4 operations node_exporter reports, each with its index in `proc4ops` (after the
# count); the unused slots 0-2 and PUTPUBFH/PUTROOTFH are left out, as upstream.
_V4_OPS = (
    ("Access", 3), ("Close", 4), ("Commit", 5), ("Create", 6), ("DelegPurge", 7),
    ("DelegReturn", 8), ("GetAttr", 9), ("GetFH", 10), ("Link", 11), ("Lock", 12),
    ("Lockt", 13), ("Locku", 14), ("Lookup", 15), ("LookupRoot", 16), ("Nverify", 17),
    ("Open", 18), ("OpenAttr", 19), ("OpenConfirm", 20), ("OpenDgrd", 21), ("PutFH", 22),
    ("Read", 25), ("ReadDir", 26), ("ReadLink", 27), ("Remove", 28), ("Rename", 29),
    ("Renew", 30), ("RestoreFH", 31), ("SaveFH", 32), ("SecInfo", 33), ("SetAttr", 34),
    ("SetClientID", 35), ("SetClientIDConfirm", 36), ("Verify", 37), ("Write", 38),
    ("RelLockOwner", 39),
)  # fmt: skip
_LINES = frozenset(
    {
        "rc",
        "fh",
        "io",
        "th",
        "ra",
        "net",
        "rpc",
        "proc2",
        "proc3",
        "proc4",
        "proc4ops",
        "wdeleg_getattr",
    }
)
_V4_MIN_OPS = 39  # Linux 2.5 printed 39 operations; RELEASE_LOCKOWNER came with 2.6


@register
class NfsdCollector(Collector):
    """NFS server reply cache, file handle, I/O, thread, network, RPC and request counters."""

    name = "nfsd"
    description = "NFS server statistics from /proc/net/rpc/nfsd"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._path = str(self.paths.proc("net/rpc/nfsd"))

    def collect(self) -> Iterable[Metric]:
        lines = parse_rpc_stats(read_required(self._path), "NFSd", _LINES)
        hits, misses, nocache = fixed(lines, "rc", 3)
        stale = fixed(lines, "fh", 5)[0]
        read, written = fixed(lines, "io", 2)
        threads = fixed(lines, "th", 2)[0]
        readahead = fixed(lines, "ra", 12)
        _net, udp, tcp, connect = fixed(lines, "net", 4)
        rpcs, _bad, bad_fmt, bad_auth, bad_client = fixed(lines, "rpc", 5)
        counted(lines, "proc4", 2, exact=2)  # checked as procfs does; node_exporter sends none
        yield from (
            counter(
                "node_nfsd_reply_cache_hits_total",
                "Total number of NFSd Reply Cache hits (client lost server response).",
                value=hits,
            ),
            counter(
                "node_nfsd_reply_cache_misses_total",
                "Total number of NFSd Reply Cache an operation that requires caching (idempotent).",
                value=misses,
            ),
            counter(
                "node_nfsd_reply_cache_nocache_total",
                "Total number of NFSd Reply Cache non-idempotent operations (rename/delete/…).",
                value=nocache,
            ),
            counter(
                "node_nfsd_file_handles_stale_total",
                "Total number of NFSd stale file handles",
                value=stale,
            ),
            counter("node_nfsd_disk_bytes_read_total", "Total NFSd bytes read.", value=read),
            counter(
                "node_nfsd_disk_bytes_written_total", "Total NFSd bytes written.", value=written
            ),
            gauge(
                "node_nfsd_server_threads",
                "Total number of NFSd kernel threads that are running.",
                value=threads,
            ),
            gauge(
                "node_nfsd_read_ahead_cache_size_blocks",
                "How large the read ahead cache is in blocks.",
                value=readahead[0],
            ),
            counter(
                "node_nfsd_read_ahead_cache_not_found_total",
                "Total number of NFSd read ahead cache not found.",
                value=readahead[11],
            ),
        )
        packets = counter(
            "node_nfsd_packets_total",
            "Total NFSd network packets (sent+received) by protocol type.",
            ["proto"],
        )
        packets.values += [(("udp",), float(udp)), (("tcp",), float(tcp))]
        yield packets
        yield counter(
            "node_nfsd_connections_total", "Total number of NFSd TCP connections.", value=connect
        )
        errors = counter(
            "node_nfsd_rpc_errors_total",
            "Total number of NFSd RPC errors by error type.",
            ["error"],
        )
        errors.values += [
            (("fmt",), float(bad_fmt)),
            (("auth",), float(bad_auth)),
            (("cInt",), float(bad_client)),
        ]
        yield errors
        yield counter("node_nfsd_server_rpcs_total", "Total number of NFSd RPCs.", value=rpcs)
        yield self._requests(lines)

    @staticmethod
    def _requests(lines: dict[str, list[int]]) -> Family:
        requests = counter(
            "node_nfsd_requests_total",
            "Total number NFSd Requests by method and protocol.",
            ["proto", "method"],
        )
        for proto, label, methods in (("2", "proc2", V2_METHODS), ("3", "proc3", V3_METHODS)):
            values = counted(lines, label, len(methods))
            # The server side leaves NULL out.
            requests.values += [
                ((proto, m), float(v)) for m, v in zip(methods, values, strict=False)
            ][1:]
        ops = counted(lines, "proc4ops", _V4_MIN_OPS)
        ops = ops + [0] * (_V4_MIN_OPS + 1 - len(ops))
        requests.values += [(("4", name), float(ops[i])) for name, i in _V4_OPS]
        wdeleg = lines.get("wdeleg_getattr", [0])[0]
        requests.values.append((("4", "WdelegGetattr"), float(wdeleg)))
        return requests
