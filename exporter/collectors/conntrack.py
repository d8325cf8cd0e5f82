"""conntrack: netfilter connection tracking table use and statistics, as node_exporter.

The statistics come from /proc/net/stat/nf_conntrack: a header, then one line of
hexadecimal columns per CPU, summed here. Kernels renamed some columns over time
(`searched` became `clashres`, `delete_list` became `chainlength`) but kept their
positions, so the columns are read by position as node_exporter (procfs) reads them;
`search_restart` (Linux >= 2.6.35) is 0 when the line lacks it. Without that file (a
kernel built without CONFIG_NF_CONNTRACK_PROCFS) only the table's use and limit are sent.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import gauge
from exporter.procfs import read_required, read_text

# (metric suffix, help, column) in node_exporter's order.
_STATS = (
    ("found", "Number of searched entries which were successful.", 2),
    ("invalid", "Number of packets seen which can not be tracked.", 4),
    ("ignore", "Number of packets seen which are already connected to a conntrack entry.", 5),
    ("insert", "Number of entries inserted into the list.", 8),
    ("insert_failed", "Number of entries for which list insertion was attempted but failed.", 9),
    ("drop", "Number of packets dropped due to conntrack failure.", 10),
    (
        "early_drop",
        "Number of dropped conntrack entries to make room for new ones, if maximum table "
        "size was reached.",
        11,
    ),
    (
        "search_restart",
        "Number of conntrack table lookups which had to be restarted due to hashtable resizes.",
        16,
    ),
)


def parse_conntrack_stat(text: str) -> list[int]:
    """The per-CPU columns of /proc/net/stat/nf_conntrack summed (17 columns, 0-padded)."""
    totals = [0] * 17
    for number, line in enumerate(text.splitlines()[1:], start=2):
        columns = line.split()
        if not columns:
            continue
        if len(columns) not in (16, 17):
            raise ValueError(f"nf_conntrack stat line {number} has {len(columns)} columns")
        for i, column in enumerate(columns):
            totals[i] += int(column, 16)
    return totals


@register
class ConntrackCollector(Collector):
    """Connection tracking entries, their limit, and the kernel's per-CPU statistics."""

    name = "conntrack"
    description = "netfilter connection tracking from /proc/sys/net/netfilter"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._count = str(self.paths.proc("sys/net/netfilter/nf_conntrack_count"))
        self._max = str(self.paths.proc("sys/net/netfilter/nf_conntrack_max"))
        self._stat = str(self.paths.proc("net/stat/nf_conntrack"))

    def collect(self) -> Iterable[Metric]:
        count = float(read_required(self._count))
        limit = float(read_required(self._max))
        try:
            totals: list[int] | None = parse_conntrack_stat(read_text(self._stat))
        except FileNotFoundError:
            # Kernels built without CONFIG_NF_CONNTRACK_PROCFS: the table's use and limit,
            # what conntrack-limit alerts read, are still there.
            totals = None
        yield gauge(
            "node_nf_conntrack_entries",
            "Number of currently allocated flow entries for connection tracking.",
            value=count,
        )
        yield gauge(
            "node_nf_conntrack_entries_limit",
            "Maximum size of connection tracking table.",
            value=limit,
        )
        if totals is None:
            return
        for suffix, documentation, column in _STATS:
            yield gauge(
                f"node_nf_conntrack_stat_{suffix}", documentation, value=float(totals[column])
            )
