"""Host overview (host-overview.json) on node_exporter-compatible metrics."""

from __future__ import annotations

from dashboards.grafana import Dashboard, Row
from dashboards.panels import RED_FROM_ONE, fraction, graph, per_second, query, series, stat
from dashboards.promql import plus, rate, ratio, sel, sum_rate

FS = 'fstype!="", mountpoint!=""'
NOT_LO = 'device!="lo"'
CPU = "node_cpu_seconds_total"
IDLE = 'mode="idle"'
CPUS = f"count by (cluster, instance) ({sel(CPU, IDLE)})"
MOUNT = "{{instance}} {{mountpoint}}"
DEVICE = "{{instance}} {{device}}"
UTILISATION = "instance_device:node_network_{}_utilisation:ratio_rate5m"


def network(counter: str) -> str:
    """Received plus transmitted per second of a `node_network_*_<counter>_total` pair."""
    return plus(
        rate(f"node_network_receive_{counter}_total", NOT_LO),
        rate(f"node_network_transmit_{counter}_total", NOT_LO),
    )


def summary() -> Row:
    """Uptime, CPU count, memory and clock offset as tiles."""
    return Row(
        "Summary",
        [
            stat(
                "Uptime",
                "Time since the host booted (node_boot_time_seconds).",
                "s",
                query(f"time() - {sel('node_boot_time_seconds')}", "{{instance}}"),
            ),
            stat("CPUs", "Number of logical CPUs.", "short", query(CPUS, "{{instance}}")),
            stat(
                "Memory total",
                "Total usable memory (MemTotal).",
                "bytes",
                series("node_memory_MemTotal_bytes"),
            ),
            stat(
                "Clock offset",
                "Host clock minus Prometheus's clock at scrape time; alerts above 1s.",
                "s",
                query(
                    f"{sel('node_time_seconds')} - timestamp({sel('node_time_seconds')})",
                    "{{instance}}",
                ),
                thresholds=RED_FROM_ONE,
            ),
        ],
    )


def cpu_and_memory() -> Row:
    """CPU utilisation and modes, load, memory and the kernel's memory-pressure counters."""
    return Row(
        "CPU and memory",
        [
            fraction(
                "CPU utilisation",
                "Share of CPU time not idle, waiting for I/O or stolen; HostCpuSaturated "
                "fires above 90% for 15m.",
                query(
                    "1 - avg by (cluster, instance) (sum without (mode) ("
                    + rate(CPU, 'mode=~"idle|iowait|steal"')
                    + "))",
                    "{{instance}}",
                ),
                thresholds=[(0.9, "red")],
            ),
            fraction(
                "CPU by mode",
                "CPU seconds per second by mode, summed over CPUs.",
                query(
                    sum_rate("instance, mode", CPU, 'mode!="idle"')
                    + " / on (cluster, instance) group_left "
                    + CPUS,
                    "{{instance}} {{mode}}",
                ),
                max=None,
            ),
            graph(
                "Load per CPU",
                "1-minute load average divided by the number of CPUs.",
                "short",
                query(f"{sel('node_load1')} / on (cluster, instance) {CPUS}", "{{instance}}"),
                min=0,
            ),
            fraction(
                "Memory utilisation",
                "1 - MemAvailable / MemTotal; HostMemoryExhaustion fires above 95%.",
                query(
                    "1 - " + ratio("node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes"),
                    "{{instance}}",
                ),
                thresholds=[(0.95, "red")],
            ),
            graph(
                "Major page faults",
                "Pages read back from disk per second: memory pressure "
                "(HostMemoryPressure above 500/s).",
                "ops",
                per_second("node_vmstat_pgmajfault"),
            ),
            graph(
                "OOM kills",
                "Processes killed by the kernel's OOM killer per second.",
                "ops",
                per_second("node_vmstat_oom_kill"),
            ),
        ],
    )


def filesystems() -> Row:
    """Space, its 24h prediction, inodes and file descriptors."""
    return Row(
        "Filesystems",
        [
            fraction(
                "Filesystem space available",
                "Available share of each filesystem; HostFilesystemAlmostFull below 10%.",
                query(
                    ratio("node_filesystem_avail_bytes", "node_filesystem_size_bytes", FS), MOUNT
                ),
            ),
            graph(
                "Predicted free space in 24h",
                "predict_linear over 6h: negative means the filesystem fills within 24h.",
                "bytes",
                query(
                    f"predict_linear({sel('node_filesystem_avail_bytes', FS)}[6h], 24 * 3600)",
                    MOUNT,
                ),
            ),
            fraction(
                "Inodes free",
                "Free share of inodes per filesystem.",
                query(ratio("node_filesystem_files_free", "node_filesystem_files", FS), MOUNT),
            ),
            fraction(
                "File descriptors allocated",
                "System-wide allocated file descriptors over the maximum.",
                query(ratio("node_filefd_allocated", "node_filefd_maximum"), "{{instance}}"),
                max=None,
            ),
        ],
    )


def disks_and_network() -> Row:
    """Disk busy time, latency and throughput; network traffic and errors; kernel activity."""
    return Row(
        "Disks and network",
        [
            fraction(
                "Disk busy",
                "Share of time each disk had I/O in flight (io_time).",
                per_second("node_disk_io_time_seconds_total", DEVICE),
            ),
            graph(
                "Disk I/O latency",
                "Average time per completed read or write.",
                "s",
                query(
                    "("
                    + plus(
                        rate("node_disk_read_time_seconds_total"),
                        rate("node_disk_write_time_seconds_total"),
                    )
                    + ") / ("
                    + plus(
                        rate("node_disk_reads_completed_total"),
                        rate("node_disk_writes_completed_total"),
                    )
                    + ")",
                    DEVICE,
                ),
            ),
            graph(
                "Disk throughput",
                "Bytes read and written per second.",
                "Bps",
                per_second("node_disk_read_bytes_total", f"{DEVICE} read"),
                per_second("node_disk_written_bytes_total", f"{DEVICE} written"),
            ),
            graph(
                "Network traffic",
                "Bytes received and transmitted per second, loopback excluded.",
                "Bps",
                per_second("node_network_receive_bytes_total", f"{DEVICE} rx", NOT_LO),
                per_second("node_network_transmit_bytes_total", f"{DEVICE} tx", NOT_LO),
            ),
            graph(
                "Network errors and drops",
                "Packets with errors or dropped per second, both directions.",
                "pps",
                query(network("errs"), f"{DEVICE} errors"),
                query(network("drop"), f"{DEVICE} drops"),
            ),
            graph(
                "Context switches and forks",
                "Kernel context switches and new processes per second.",
                "ops",
                per_second("node_context_switches_total", "{{instance}} switches"),
                per_second("node_forks_total", "{{instance}} forks"),
            ),
        ],
    )


def network_stack_and_time() -> Row:
    """Clock sync, conntrack, link utilisation, TCP retransmits and listen drops, softnet."""
    return Row(
        "Network stack and time",
        [
            graph(
                "Clock offset and sync status",
                "Kernel clock offset from its time source (adjtimex) and whether the kernel "
                "deems the clock synchronised (1) or not (0, e.g. NTP stopped).",
                "s",
                series("node_timex_offset_seconds", "{{instance}} offset"),
                series("node_timex_sync_status", "{{instance}} synchronised"),
                id=25,
                width=8,
            ),
            fraction(
                "Conntrack table usage",
                "Connection-tracking entries over the table's limit; at 1 new connections "
                "are dropped.",
                query(
                    ratio("node_nf_conntrack_entries", "node_nf_conntrack_entries_limit"),
                    "{{instance}}",
                ),
                id=26,
                width=8,
                thresholds=[(0.8, "orange"), (0.95, "red")],
            ),
            fraction(
                "Interface utilisation vs link speed",
                "Bytes per second received and sent over the link speed the driver reports "
                "(node_network_speed_bytes; interfaces that report none are left out); "
                "recorded over 5m in rules/dashboards.rules.yml.",
                series(f"{UTILISATION.format('receive')}", f"{DEVICE} rx"),
                series(f"{UTILISATION.format('transmit')}", f"{DEVICE} tx"),
                id=27,
                width=8,
                max=None,
                thresholds=[(0.9, "red")],
            ),
            graph(
                "TCP retransmits and listen-queue drops",
                "Segments retransmitted, and connections dropped or overflowing the accept "
                "queue of a listening socket (a server not accepting fast enough), per second.",
                "pps",
                per_second("node_netstat_Tcp_RetransSegs", "{{instance}} retransmitted"),
                per_second("node_netstat_TcpExt_ListenDrops", "{{instance}} listen drops"),
                per_second("node_netstat_TcpExt_ListenOverflows", "{{instance}} listen overflows"),
                id=28,
            ),
            graph(
                "Softnet drops and squeezes",
                "Packets dropped because a CPU's backlog was full, and times the receive "
                "softirq ran out of budget with work left, per second over all CPUs; "
                "recorded over 5m in rules/dashboards.rules.yml.",
                "ops",
                series("instance:node_softnet_dropped:rate5m", "{{instance}} dropped"),
                series("instance:node_softnet_times_squeezed:rate5m", "{{instance}} squeezed"),
                id=29,
            ),
        ],
        id=35,
    )


def hardware_and_services() -> Row:
    """Temperatures, RAID, ECC memory, failed systemd units, filesystem device errors."""
    return Row(
        "Hardware and services",
        [
            graph(
                "Hardware temperatures vs critical",
                "Each hwmon sensor's temperature and the critical threshold its chip reports "
                "(the series named crit).",
                "celsius",
                series("node_hwmon_temp_celsius", "{{instance}} {{chip}} {{sensor}}"),
                series("node_hwmon_temp_crit_celsius", "{{instance}} {{chip}} {{sensor}} crit"),
                id=30,
            ),
            graph(
                "RAID arrays and disks",
                "Per md array: disks missing from a degraded array and disks marked failed; "
                "both 0 on a healthy array.",
                "short",
                series("node_md_degraded", f"{DEVICE} degraded"),
                series("node_md_disks", f"{DEVICE} failed", 'state="failed"'),
                id=31,
                thresholds=RED_FROM_ONE,
            ),
            graph(
                "Memory ECC errors",
                "Correctable and uncorrectable memory errors per second by memory controller "
                "(EDAC); correctable ones rising foretell a failing DIMM.",
                "ops",
                per_second(
                    "node_edac_correctable_errors_total", "{{instance}} mc{{controller}} corr."
                ),
                per_second(
                    "node_edac_uncorrectable_errors_total",
                    "{{instance}} mc{{controller}} uncorr.",
                ),
                id=32,
                width=8,
            ),
            graph(
                "Failed systemd units",
                "Units in the failed state per host (systemd over D-Bus); recorded in "
                "rules/dashboards.rules.yml.",
                "short",
                series("instance:node_systemd_unit_state_failed:sum"),
                id=33,
                width=8,
                thresholds=RED_FROM_ONE,
            ),
            graph(
                "Filesystem device errors",
                "1 when a mount's statfs failed or did not answer in time (a hung NFS or a "
                "dead disk): its space metrics are then missing.",
                "short",
                series("node_filesystem_device_error", MOUNT, FS),
                id=34,
                width=8,
                thresholds=RED_FROM_ONE,
            ),
        ],
        id=36,
    )


def dashboard() -> Dashboard:
    """Host overview: summary tiles, CPU and memory, filesystems, disks and network, the
    network stack and time, hardware and services."""
    return Dashboard(
        name="host-overview",
        title="Host overview",
        description="CPU, memory, filesystems, disks, network, kernel counters, clock sync, "
        "conntrack, hardware sensors, RAID, ECC and systemd units per host.",
        tag="host",
        job_metric="node_uname_info",
        rows=[
            summary(),
            cpu_and_memory(),
            filesystems(),
            disks_and_network(),
            network_stack_and_time(),
            hardware_and_services(),
        ],
    )
