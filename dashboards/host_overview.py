"""Host overview (host-overview.json) on node_exporter-compatible metrics."""

from __future__ import annotations

from dashboards.grafana import Dashboard, Row, Target
from dashboards.panels import RED_FROM_ONE, fraction, graph, per_second, series, stat
from dashboards.promql import plus, rate, ratio, sel, sum_rate

FS = 'fstype!="", mountpoint!=""'
NOT_LO = 'device!="lo"'
CPU = "node_cpu_seconds_total"
IDLE = 'mode="idle"'
CPUS = f"count by (instance) ({sel(CPU, IDLE)})"
MOUNT = "{{instance}} {{mountpoint}}"
DEVICE = "{{instance}} {{device}}"


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
                Target(f"time() - {sel('node_boot_time_seconds')}", "{{instance}}"),
            ),
            stat("CPUs", "Number of logical CPUs.", "short", Target(CPUS, "{{instance}}")),
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
                Target(
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
                Target(
                    "1 - avg by (instance) (sum without (mode) ("
                    + rate(CPU, 'mode=~"idle|iowait|steal"')
                    + "))",
                    "{{instance}}",
                ),
                thresholds=[(0.9, "red")],
            ),
            fraction(
                "CPU by mode",
                "CPU seconds per second by mode, summed over CPUs.",
                Target(
                    sum_rate("instance, mode", CPU, 'mode!="idle"')
                    + " / on (instance) group_left "
                    + CPUS,
                    "{{instance}} {{mode}}",
                ),
                max=None,
            ),
            graph(
                "Load per CPU",
                "1-minute load average divided by the number of CPUs.",
                "short",
                Target(f"{sel('node_load1')} / on (instance) {CPUS}", "{{instance}}"),
                min=0,
            ),
            fraction(
                "Memory utilisation",
                "1 - MemAvailable / MemTotal; HostMemoryExhaustion fires above 95%.",
                Target(
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
                Target(
                    ratio("node_filesystem_avail_bytes", "node_filesystem_size_bytes", FS), MOUNT
                ),
            ),
            graph(
                "Predicted free space in 24h",
                "predict_linear over 6h: negative means the filesystem fills within 24h.",
                "bytes",
                Target(
                    f"predict_linear({sel('node_filesystem_avail_bytes', FS)}[6h], 24 * 3600)",
                    MOUNT,
                ),
            ),
            fraction(
                "Inodes free",
                "Free share of inodes per filesystem.",
                Target(ratio("node_filesystem_files_free", "node_filesystem_files", FS), MOUNT),
            ),
            fraction(
                "File descriptors allocated",
                "System-wide allocated file descriptors over the maximum.",
                Target(ratio("node_filefd_allocated", "node_filefd_maximum"), "{{instance}}"),
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
                Target(
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
                Target(network("errs"), f"{DEVICE} errors"),
                Target(network("drop"), f"{DEVICE} drops"),
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


def dashboard() -> Dashboard:
    """Host overview: summary tiles, CPU and memory, filesystems, disks and network."""
    return Dashboard(
        name="host-overview",
        title="Host overview",
        description="CPU, memory, filesystems, disks, network and kernel counters per host.",
        tag="host",
        job_metric="node_uname_info",
        rows=[summary(), cpu_and_memory(), filesystems(), disks_and_network()],
    )
