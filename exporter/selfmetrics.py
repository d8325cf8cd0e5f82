"""The self-metrics node_exporter dashboards read: `process_*` for the exporter process and
`node_scrape_collector_{success,duration_seconds}` for the node_exporter-compatible
collectors (the exporter's own `tocsin_exporter_collector_*` cover every collector).

`process_*` are prometheus_client's ProcessCollector families (the same names, help and
types as client_golang's process collector in node_exporter), read here with one
os.read of /proc/self/stat, a getrlimit and a listing of /proc/self/fd: the
ProcessCollector's buffered file objects and its parse of /proc/self/limits cost about a
tenth of a scrape's CPU.
"""

from __future__ import annotations

import contextlib
import os
import resource
from collections.abc import Iterable

from exporter.families import Family, counter, gauge

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

_PAGESIZE = resource.getpagesize()
_TICKS = os.sysconf("SC_CLK_TCK")


def _boot_time() -> float | None:
    """The kernel's boot time (`btime` in /proc/stat), None where /proc is not readable."""
    try:
        with open("/proc/stat", "rb") as stat:
            for line in stat:
                if line.startswith(b"btime "):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


# Fixed for the life of the process.
_BOOT_TIME = _boot_time()


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


def process_families() -> list[Family]:
    """The exporter process's CPU time, memory, file descriptors and start time.

    As ProcessCollector: nothing where /proc is not readable, and each of the two groups
    (from /proc/self/stat; the file descriptors) left out when its read fails.
    """
    if _BOOT_TIME is None:
        return [_virtual_memory_max()]
    families = []
    with contextlib.suppress(OSError):
        families.extend(_stat_families(_BOOT_TIME))
    try:
        open_fds = float(len(os.listdir("/proc/self/fd")))
    except OSError:
        pass
    else:
        families.append(
            gauge("process_open_fds", "Number of open file descriptors.", value=open_fds)
        )
        families.append(
            gauge(
                "process_max_fds",
                "Maximum number of open file descriptors.",
                value=float(resource.getrlimit(resource.RLIMIT_NOFILE)[0]),
            )
        )
    families.append(_virtual_memory_max())
    return families


def _stat_families(boot_time: float) -> list[Family]:
    fd = os.open("/proc/self/stat", os.O_RDONLY | os.O_CLOEXEC)
    try:
        raw = os.read(fd, 4096)
    finally:
        os.close(fd)
    # Fields after the command name, which is in parentheses and may hold anything.
    parts = raw.rsplit(b")", 1)[-1].split()
    return [
        gauge(
            "process_virtual_memory_bytes", "Virtual memory size in bytes.", value=float(parts[20])
        ),
        gauge(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            value=float(parts[21]) * _PAGESIZE,
        ),
        gauge(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            value=float(parts[19]) / _TICKS + boot_time,
        ),
        counter(
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds.",
            value=float(parts[11]) / _TICKS + float(parts[12]) / _TICKS,
        ),
    ]


def _virtual_memory_max() -> Family:
    # client_golang has this one and prometheus_client not; "unlimited" is Go's uint64 max.
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    return gauge(
        "process_virtual_memory_max_bytes",
        "Maximum amount of virtual memory available in bytes.",
        value=float(2**64 - 1 if soft == resource.RLIM_INFINITY else soft),
    )
