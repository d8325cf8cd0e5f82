"""The self-metrics node_exporter dashboards read: `process_*` for the exporter process and
`node_scrape_collector_{success,duration_seconds}` for the node_exporter-compatible
collectors (the exporter's own `tocsin_exporter_collector_*` cover every collector).

`process_*` comes from prometheus_client's ProcessCollector, the same families (names,
help, types) as client_golang's process collector in node_exporter.
"""

from __future__ import annotations

import resource
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric
from prometheus_client.process_collector import ProcessCollector

from exporter.families import Family, gauge

# node_exporter's Linux collector names (default-on and off); a collector of ours by one of
# these names reports itself in node_scrape_collector_*, as node_exporter would. Its
# `processes` is left out: ours by that name is a different (tocsin_*) collector.
NODE_EXPORTER_COLLECTORS = frozenset(
    {
        "arp", "bcache", "bonding", "btrfs", "buddyinfo", "cgroups", "conntrack", "cpu",
        "cpu_vulnerabilities", "cpufreq", "diskstats", "dmi", "drbd", "drm", "edac",
        "entropy", "ethtool", "fibrechannel", "filefd", "filesystem", "hwmon", "infiniband",
        "interrupts", "ipvs", "ksmd", "lnstat", "loadavg", "logind", "mdadm", "meminfo",
        "meminfo_numa", "mountstats", "netclass", "netdev", "netstat", "network_route",
        "nfs", "nfsd", "nvme", "os", "perf", "powersupplyclass", "pressure",
        "qdisc", "rapl", "runit", "schedstat", "selinux", "slabinfo", "sockstat", "softirqs",
        "softnet", "stat", "supervisord", "sysctl", "systemd", "tapestats", "tcpstat",
        "textfile", "thermal_zone", "time", "timex", "udp_queues", "uname", "vmstat",
        "watchdog", "wifi", "xfrm", "xfs", "zfs", "zoneinfo",
    }
)  # fmt: skip

# Built once: it reads /proc/self/{stat,limits,fd} on each collect().
_PROCESS = ProcessCollector(registry=None)


def scrape_collector_families(results: Iterable[tuple[str, bool, float]]) -> list[Family]:
    """node_exporter's per-collector families from (name, success, seconds) per collector;
    only the node_exporter-compatible names are reported."""
    duration = gauge(
        "node_scrape_collector_duration_seconds",
        "node_exporter: Duration of a collector scrape.",
        labels=["collector"],
    )
    success = gauge(
        "node_scrape_collector_success",
        "node_exporter: Whether a collector succeeded.",
        labels=["collector"],
    )
    for name, ok, seconds in results:
        if name in NODE_EXPORTER_COLLECTORS:
            duration.values.append(((name,), seconds))
            success.values.append(((name,), 1.0 if ok else 0.0))
    if not success.values:
        return []
    return [duration, success]


def process_families() -> list[Metric]:
    """The exporter process's CPU time, memory, file descriptors and start time."""
    return [*_PROCESS.collect(), _virtual_memory_max()]


def _virtual_memory_max() -> Family:
    # client_golang has this one and prometheus_client not; "unlimited" is Go's uint64 max.
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    return gauge(
        "process_virtual_memory_max_bytes",
        "Maximum amount of virtual memory available in bytes.",
        value=float(2**64 - 1 if soft == resource.RLIM_INFINITY else soft),
    )
