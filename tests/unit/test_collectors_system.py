"""System collectors: exact output against fixture /proc, /sys and rootfs trees; the live host."""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from exporter.collector import (
    Collector,
    CollectorContext,
    CollectorUnavailable,
    HostPaths,
)
from exporter.collectors.cpu import CPUCollector
from exporter.collectors.diskstats import DiskstatsCollector, DiskstatsConfig
from exporter.collectors.filesystem import FilesystemCollector, FilesystemConfig
from exporter.collectors.netdev import NetdevCollector, NetdevConfig
from exporter.collectors.os import OSCollector
from exporter.collectors.pressure import PressureCollector
from exporter.collectors.time import TimeCollector
from exporter.collectors.uname import UnameCollector
from exporter.collectors.vmstat import VmstatConfig
from exporter.discovery import available
from servicekit.loader import Loader
from servicekit.problems import ConfigError
from tests.conftest import FIXTURES, SYSTEM_COLLECTORS
from tests.registry import exposition, samples

FIXTURE_PATHS = HostPaths(
    procfs=FIXTURES / "proc", sysfs=FIXTURES / "sys", rootfs=FIXTURES / "rootfs"
)


def build(name: str, paths: HostPaths = FIXTURE_PATHS, config: Any = None) -> Collector:
    return available()[name](CollectorContext(paths=paths, config=config))


# Exact expected exposition for each collector against tests/fixtures/{proc,sys,rootfs}.
EXPECTED = {
    "cpu": """\
# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.
# TYPE node_cpu_seconds_total counter
node_cpu_seconds_total{cpu="0",mode="user"} 444.9
node_cpu_seconds_total{cpu="0",mode="nice"} 0.19
node_cpu_seconds_total{cpu="0",mode="system"} 210.45
node_cpu_seconds_total{cpu="0",mode="idle"} 10870.69
node_cpu_seconds_total{cpu="0",mode="iowait"} 2.2
node_cpu_seconds_total{cpu="0",mode="irq"} 0.01
node_cpu_seconds_total{cpu="0",mode="softirq"} 34.1
node_cpu_seconds_total{cpu="0",mode="steal"} 0.0
node_cpu_seconds_total{cpu="1",mode="user"} 478.69
node_cpu_seconds_total{cpu="1",mode="nice"} 6.23
node_cpu_seconds_total{cpu="1",mode="system"} 114.73
node_cpu_seconds_total{cpu="1",mode="idle"} 11106.97
node_cpu_seconds_total{cpu="1",mode="iowait"} 36.93
node_cpu_seconds_total{cpu="1",mode="irq"} 0.02
node_cpu_seconds_total{cpu="1",mode="softirq"} 0.46
node_cpu_seconds_total{cpu="1",mode="steal"} 0.0
# HELP node_cpu_guest_seconds_total Seconds the CPUs spent in guests (VMs) for each mode.
# TYPE node_cpu_guest_seconds_total counter
node_cpu_guest_seconds_total{cpu="0",mode="user"} 0.0
node_cpu_guest_seconds_total{cpu="0",mode="nice"} 0.0
node_cpu_guest_seconds_total{cpu="1",mode="user"} 0.12
node_cpu_guest_seconds_total{cpu="1",mode="nice"} 0.03
# HELP node_cpu_isolated Whether each core is isolated, information from /sys/devices/system/cpu/isolated.
# TYPE node_cpu_isolated gauge
node_cpu_isolated{cpu="1"} 1.0
# HELP node_cpu_package_throttles_total Number of times this CPU package has been throttled.
# TYPE node_cpu_package_throttles_total counter
node_cpu_package_throttles_total{package="0"} 30.0
# HELP node_cpu_core_throttles_total Number of times this CPU core has been throttled.
# TYPE node_cpu_core_throttles_total counter
node_cpu_core_throttles_total{core="0",package="0"} 5.0
node_cpu_core_throttles_total{core="1",package="0"} 6.0
""",  # noqa: E501
    "meminfo": """\
# HELP node_memory_MemTotal_bytes Memory information field MemTotal_bytes.
# TYPE node_memory_MemTotal_bytes gauge
node_memory_MemTotal_bytes 1.6042172416e+10
# HELP node_memory_MemFree_bytes Memory information field MemFree_bytes.
# TYPE node_memory_MemFree_bytes gauge
node_memory_MemFree_bytes 1.151868928e+09
# HELP node_memory_MemAvailable_bytes Memory information field MemAvailable_bytes.
# TYPE node_memory_MemAvailable_bytes gauge
node_memory_MemAvailable_bytes 1.036345344e+10
# HELP node_memory_Buffers_bytes Memory information field Buffers_bytes.
# TYPE node_memory_Buffers_bytes gauge
node_memory_Buffers_bytes 2.76680704e+08
# HELP node_memory_Cached_bytes Memory information field Cached_bytes.
# TYPE node_memory_Cached_bytes gauge
node_memory_Cached_bytes 9.034092544e+09
# HELP node_memory_Active_anon_bytes Memory information field Active_anon_bytes.
# TYPE node_memory_Active_anon_bytes gauge
node_memory_Active_anon_bytes 2.374131712e+09
# HELP node_memory_Inactive_file_bytes Memory information field Inactive_file_bytes.
# TYPE node_memory_Inactive_file_bytes gauge
node_memory_Inactive_file_bytes 4.31245312e+09
# HELP node_memory_NFS_Unstable_bytes Memory information field NFS_Unstable_bytes.
# TYPE node_memory_NFS_Unstable_bytes gauge
node_memory_NFS_Unstable_bytes 0.0
# HELP node_memory_HugePages_Total Memory information field HugePages_Total.
# TYPE node_memory_HugePages_Total gauge
node_memory_HugePages_Total 4.0
# HELP node_memory_HugePages_Free Memory information field HugePages_Free.
# TYPE node_memory_HugePages_Free gauge
node_memory_HugePages_Free 2.0
# HELP node_memory_Hugepagesize_bytes Memory information field Hugepagesize_bytes.
# TYPE node_memory_Hugepagesize_bytes gauge
node_memory_Hugepagesize_bytes 2.097152e+06
# HELP node_memory_DirectMap4k_bytes Memory information field DirectMap4k_bytes.
# TYPE node_memory_DirectMap4k_bytes gauge
node_memory_DirectMap4k_bytes 4.41974784e+08
""",
    "stat": """\
# HELP node_intr_total Total number of interrupts serviced.
# TYPE node_intr_total counter
node_intr_total 8.885917e+06
# HELP node_context_switches_total Total number of context switches.
# TYPE node_context_switches_total counter
node_context_switches_total 3.8014093e+07
# HELP node_boot_time_seconds Node boot time, in unixtime.
# TYPE node_boot_time_seconds gauge
node_boot_time_seconds 1.418183276e+09
# HELP node_forks_total Total number of forks.
# TYPE node_forks_total counter
node_forks_total 26442.0
# HELP node_procs_running Number of processes in runnable state.
# TYPE node_procs_running gauge
node_procs_running 2.0
# HELP node_procs_blocked Number of processes blocked waiting for I/O to complete.
# TYPE node_procs_blocked gauge
node_procs_blocked 1.0
""",
    "loadavg": """\
# HELP node_load1 1m load average.
# TYPE node_load1 gauge
node_load1 0.02
# HELP node_load5 5m load average.
# TYPE node_load5 gauge
node_load5 0.04
# HELP node_load15 15m load average.
# TYPE node_load15 gauge
node_load15 0.05
""",
    "filefd": """\
# HELP node_filefd_allocated File descriptor statistics: allocated.
# TYPE node_filefd_allocated gauge
node_filefd_allocated 1024.0
# HELP node_filefd_maximum File descriptor statistics: maximum.
# TYPE node_filefd_maximum gauge
node_filefd_maximum 1.631329e+06
""",
    "vmstat": """\
# HELP node_vmstat_pgpgin /proc/vmstat information field pgpgin.
# TYPE node_vmstat_pgpgin untyped
node_vmstat_pgpgin 7.344136e+06
# HELP node_vmstat_pgpgout /proc/vmstat information field pgpgout.
# TYPE node_vmstat_pgpgout untyped
node_vmstat_pgpgout 1.541180581e+09
# HELP node_vmstat_pswpin /proc/vmstat information field pswpin.
# TYPE node_vmstat_pswpin untyped
node_vmstat_pswpin 1476.0
# HELP node_vmstat_pswpout /proc/vmstat information field pswpout.
# TYPE node_vmstat_pswpout untyped
node_vmstat_pswpout 2045.0
# HELP node_vmstat_pgfault /proc/vmstat information field pgfault.
# TYPE node_vmstat_pgfault untyped
node_vmstat_pgfault 1.005796939e+09
# HELP node_vmstat_pgmajfault /proc/vmstat information field pgmajfault.
# TYPE node_vmstat_pgmajfault untyped
node_vmstat_pgmajfault 1012.0
# HELP node_vmstat_oom_kill /proc/vmstat information field oom_kill.
# TYPE node_vmstat_oom_kill untyped
node_vmstat_oom_kill 2.0
""",
    "pressure": """\
# HELP node_pressure_cpu_waiting_seconds_total Total time in seconds that processes have waited for CPU time
# TYPE node_pressure_cpu_waiting_seconds_total counter
node_pressure_cpu_waiting_seconds_total 14.036781000000001
# HELP node_pressure_io_waiting_seconds_total Total time in seconds that processes have waited due to IO congestion
# TYPE node_pressure_io_waiting_seconds_total counter
node_pressure_io_waiting_seconds_total 159.886802
# HELP node_pressure_io_stalled_seconds_total Total time in seconds no process could make progress due to IO congestion
# TYPE node_pressure_io_stalled_seconds_total counter
node_pressure_io_stalled_seconds_total 159.229614
# HELP node_pressure_memory_waiting_seconds_total Total time in seconds that processes have waited for memory
# TYPE node_pressure_memory_waiting_seconds_total counter
node_pressure_memory_waiting_seconds_total 0.25
# HELP node_pressure_memory_stalled_seconds_total Total time in seconds no process could make progress due to memory congestion
# TYPE node_pressure_memory_stalled_seconds_total counter
node_pressure_memory_stalled_seconds_total 0.125
# HELP node_pressure_irq_stalled_seconds_total Total time in seconds no process could make progress due to IRQ congestion
# TYPE node_pressure_irq_stalled_seconds_total counter
node_pressure_irq_stalled_seconds_total 0.0625
""",  # noqa: E501
    "os": """\
# HELP node_os_info A metric with a constant '1' value labeled by build_id, id, id_like, image_id, image_version, name, pretty_name, variant, variant_id, version, version_codename, version_id.
# TYPE node_os_info gauge
node_os_info{build_id="",id="ubuntu",id_like="debian",image_id="",image_version="",name="Ubuntu",pretty_name="Ubuntu 20.04.6 LTS",variant="",variant_id="",version="20.04.6 LTS (Focal Fossa)",version_codename="focal",version_id="20.04"} 1.0
# HELP node_os_version Metric containing the major.minor part of the OS version.
# TYPE node_os_version gauge
node_os_version{id="ubuntu",id_like="debian",name="Ubuntu"} 20.04
# HELP node_os_support_end_timestamp_seconds Metric containing the end-of-life date timestamp of the OS.
# TYPE node_os_support_end_timestamp_seconds gauge
node_os_support_end_timestamp_seconds 1.7484768e+09
""",  # noqa: E501
    "netdev": """\
# HELP node_network_receive_bytes_total Network device statistic receive_bytes.
# TYPE node_network_receive_bytes_total counter
node_network_receive_bytes_total{device="lo"} 435303.0
node_network_receive_bytes_total{device="eth0"} 6.8210035552e+10
node_network_receive_bytes_total{device="docker0"} 6.4910168e+07
# HELP node_network_receive_packets_total Network device statistic receive_packets.
# TYPE node_network_receive_packets_total counter
node_network_receive_packets_total{device="lo"} 245.0
node_network_receive_packets_total{device="eth0"} 5.20993275e+08
node_network_receive_packets_total{device="docker0"} 1.065585e+06
# HELP node_network_receive_errs_total Network device statistic receive_errs.
# TYPE node_network_receive_errs_total counter
node_network_receive_errs_total{device="lo"} 0.0
node_network_receive_errs_total{device="eth0"} 0.0
node_network_receive_errs_total{device="docker0"} 1.0
# HELP node_network_receive_drop_total Network device statistic receive_drop.
# TYPE node_network_receive_drop_total counter
node_network_receive_drop_total{device="lo"} 0.0
node_network_receive_drop_total{device="eth0"} 0.0
node_network_receive_drop_total{device="docker0"} 2.0
# HELP node_network_receive_fifo_total Network device statistic receive_fifo.
# TYPE node_network_receive_fifo_total counter
node_network_receive_fifo_total{device="lo"} 0.0
node_network_receive_fifo_total{device="eth0"} 0.0
node_network_receive_fifo_total{device="docker0"} 3.0
# HELP node_network_receive_frame_total Network device statistic receive_frame.
# TYPE node_network_receive_frame_total counter
node_network_receive_frame_total{device="lo"} 0.0
node_network_receive_frame_total{device="eth0"} 0.0
node_network_receive_frame_total{device="docker0"} 4.0
# HELP node_network_receive_compressed_total Network device statistic receive_compressed.
# TYPE node_network_receive_compressed_total counter
node_network_receive_compressed_total{device="lo"} 0.0
node_network_receive_compressed_total{device="eth0"} 0.0
node_network_receive_compressed_total{device="docker0"} 5.0
# HELP node_network_receive_multicast_total Network device statistic receive_multicast.
# TYPE node_network_receive_multicast_total counter
node_network_receive_multicast_total{device="lo"} 0.0
node_network_receive_multicast_total{device="eth0"} 0.0
node_network_receive_multicast_total{device="docker0"} 6.0
# HELP node_network_transmit_bytes_total Network device statistic transmit_bytes.
# TYPE node_network_transmit_bytes_total counter
node_network_transmit_bytes_total{device="lo"} 435303.0
node_network_transmit_bytes_total{device="eth0"} 9.315587528e+09
node_network_transmit_bytes_total{device="docker0"} 2.681662018e+09
# HELP node_network_transmit_packets_total Network device statistic transmit_packets.
# TYPE node_network_transmit_packets_total counter
node_network_transmit_packets_total{device="lo"} 245.0
node_network_transmit_packets_total{device="eth0"} 4.3451486e+07
node_network_transmit_packets_total{device="docker0"} 1.929779e+06
# HELP node_network_transmit_errs_total Network device statistic transmit_errs.
# TYPE node_network_transmit_errs_total counter
node_network_transmit_errs_total{device="lo"} 0.0
node_network_transmit_errs_total{device="eth0"} 0.0
node_network_transmit_errs_total{device="docker0"} 7.0
# HELP node_network_transmit_drop_total Network device statistic transmit_drop.
# TYPE node_network_transmit_drop_total counter
node_network_transmit_drop_total{device="lo"} 0.0
node_network_transmit_drop_total{device="eth0"} 0.0
node_network_transmit_drop_total{device="docker0"} 8.0
# HELP node_network_transmit_fifo_total Network device statistic transmit_fifo.
# TYPE node_network_transmit_fifo_total counter
node_network_transmit_fifo_total{device="lo"} 0.0
node_network_transmit_fifo_total{device="eth0"} 0.0
node_network_transmit_fifo_total{device="docker0"} 9.0
# HELP node_network_transmit_colls_total Network device statistic transmit_colls.
# TYPE node_network_transmit_colls_total counter
node_network_transmit_colls_total{device="lo"} 0.0
node_network_transmit_colls_total{device="eth0"} 0.0
node_network_transmit_colls_total{device="docker0"} 10.0
# HELP node_network_transmit_carrier_total Network device statistic transmit_carrier.
# TYPE node_network_transmit_carrier_total counter
node_network_transmit_carrier_total{device="lo"} 0.0
node_network_transmit_carrier_total{device="eth0"} 0.0
node_network_transmit_carrier_total{device="docker0"} 11.0
# HELP node_network_transmit_compressed_total Network device statistic transmit_compressed.
# TYPE node_network_transmit_compressed_total counter
node_network_transmit_compressed_total{device="lo"} 0.0
node_network_transmit_compressed_total{device="eth0"} 0.0
node_network_transmit_compressed_total{device="docker0"} 12.0
# HELP node_network_receive_nohandler_total Network device statistic receive_nohandler.
# TYPE node_network_receive_nohandler_total counter
node_network_receive_nohandler_total{device="eth0"} 3.0
""",
    "diskstats": """\
# HELP node_disk_info Info of /sys/block/<block_device>.
# TYPE node_disk_info gauge
node_disk_info{device="sda",major="8",minor="0",model="WDC_WD20EARS-00MVWB0",path="pci-0000:00:1f.2-ata-1",revision="51.0AB51",rotational="1",serial="WD-WMAZA0000001",wwn="0x50014ee000000001"} 1.0
node_disk_info{device="dm-0",major="252",minor="0",model="",path="",revision="",rotational="0",serial="dm-serial-1",wwn=""} 1.0
node_disk_info{device="nvme0n1",major="259",minor="0",model="",path="",revision="",rotational="0",serial="",wwn=""} 1.0
# HELP node_disk_reads_completed_total The total number of reads completed successfully.
# TYPE node_disk_reads_completed_total counter
node_disk_reads_completed_total{device="sda"} 2.5354637e+07
node_disk_reads_completed_total{device="dm-0"} 223.0
node_disk_reads_completed_total{device="nvme0n1"} 47114.0
# HELP node_disk_reads_merged_total The total number of reads merged.
# TYPE node_disk_reads_merged_total counter
node_disk_reads_merged_total{device="sda"} 3.4367663e+07
node_disk_reads_merged_total{device="dm-0"} 0.0
node_disk_reads_merged_total{device="nvme0n1"} 4.0
# HELP node_disk_read_bytes_total The total number of bytes read successfully.
# TYPE node_disk_read_bytes_total counter
node_disk_read_bytes_total{device="sda"} 5.13713216512e+11
node_disk_read_bytes_total{device="dm-0"} 2.1504e+06
node_disk_read_bytes_total{device="nvme0n1"} 2.377714176e+09
# HELP node_disk_read_time_seconds_total The total number of seconds spent by all reads.
# TYPE node_disk_read_time_seconds_total counter
node_disk_read_time_seconds_total{device="sda"} 18492.372
node_disk_read_time_seconds_total{device="dm-0"} 0.041
node_disk_read_time_seconds_total{device="nvme0n1"} 21.650000000000002
# HELP node_disk_writes_completed_total The total number of writes completed successfully.
# TYPE node_disk_writes_completed_total counter
node_disk_writes_completed_total{device="sda"} 2.8444756e+07
node_disk_writes_completed_total{device="dm-0"} 2.0
node_disk_writes_completed_total{device="nvme0n1"} 1.07832e+06
# HELP node_disk_writes_merged_total The number of writes merged.
# TYPE node_disk_writes_merged_total counter
node_disk_writes_merged_total{device="sda"} 1.1134226e+07
node_disk_writes_merged_total{device="dm-0"} 0.0
node_disk_writes_merged_total{device="nvme0n1"} 43950.0
# HELP node_disk_written_bytes_total The total number of bytes written successfully.
# TYPE node_disk_written_bytes_total counter
node_disk_written_bytes_total{device="sda"} 2.58916880384e+11
node_disk_written_bytes_total{device="dm-0"} 8192.0
node_disk_written_bytes_total{device="nvme0n1"} 2.0199236096e+10
# HELP node_disk_write_time_seconds_total This is the total number of seconds spent by all writes.
# TYPE node_disk_write_time_seconds_total counter
node_disk_write_time_seconds_total{device="sda"} 63877.96
node_disk_write_time_seconds_total{device="dm-0"} 0.001
node_disk_write_time_seconds_total{device="nvme0n1"} 1011.053
# HELP node_disk_io_now The number of I/Os currently in progress.
# TYPE node_disk_io_now gauge
node_disk_io_now{device="sda"} 0.0
node_disk_io_now{device="dm-0"} 0.0
node_disk_io_now{device="nvme0n1"} 0.0
# HELP node_disk_io_time_seconds_total Total seconds spent doing I/Os.
# TYPE node_disk_io_time_seconds_total counter
node_disk_io_time_seconds_total{device="sda"} 9653.880000000001
node_disk_io_time_seconds_total{device="dm-0"} 0.042
node_disk_io_time_seconds_total{device="nvme0n1"} 222.766
# HELP node_disk_io_time_weighted_seconds_total The weighted # of seconds spent doing I/Os.
# TYPE node_disk_io_time_weighted_seconds_total counter
node_disk_io_time_weighted_seconds_total{device="sda"} 82621.804
node_disk_io_time_weighted_seconds_total{device="dm-0"} 0.042
node_disk_io_time_weighted_seconds_total{device="nvme0n1"} 1032.546
# HELP node_disk_ata_write_cache ATA disk has a write cache.
# TYPE node_disk_ata_write_cache gauge
node_disk_ata_write_cache{device="sda"} 1.0
# HELP node_disk_ata_write_cache_enabled ATA disk has its write cache enabled.
# TYPE node_disk_ata_write_cache_enabled gauge
node_disk_ata_write_cache_enabled{device="sda"} 0.0
# HELP node_disk_ata_rotation_rate_rpm ATA disk rotation rate in RPMs (0 for SSDs).
# TYPE node_disk_ata_rotation_rate_rpm gauge
node_disk_ata_rotation_rate_rpm{device="sda"} 5400.0
# HELP node_disk_discards_completed_total The total number of discards completed successfully.
# TYPE node_disk_discards_completed_total counter
node_disk_discards_completed_total{device="dm-0"} 10.0
node_disk_discards_completed_total{device="nvme0n1"} 0.0
# HELP node_disk_discards_merged_total The total number of discards merged.
# TYPE node_disk_discards_merged_total counter
node_disk_discards_merged_total{device="dm-0"} 1.0
node_disk_discards_merged_total{device="nvme0n1"} 0.0
# HELP node_disk_discarded_sectors_total The total number of sectors discarded successfully.
# TYPE node_disk_discarded_sectors_total counter
node_disk_discarded_sectors_total{device="dm-0"} 80.0
node_disk_discarded_sectors_total{device="nvme0n1"} 0.0
# HELP node_disk_discard_time_seconds_total This is the total number of seconds spent by all discards.
# TYPE node_disk_discard_time_seconds_total counter
node_disk_discard_time_seconds_total{device="dm-0"} 0.005
node_disk_discard_time_seconds_total{device="nvme0n1"} 0.0
# HELP node_disk_filesystem_info Info about disk filesystem.
# TYPE node_disk_filesystem_info gauge
node_disk_filesystem_info{device="dm-0",type="ext4",usage="filesystem",uuid="1a2b3c4d-0000-4000-8000-000000000001",version="1.0"} 1.0
# HELP node_disk_device_mapper_info Info about disk device mapper.
# TYPE node_disk_device_mapper_info gauge
node_disk_device_mapper_info{device="dm-0",lv_layer="",lv_name="root",name="vg0-root",uuid="LVM-0000000000000000000000000000000000000000000000000000000000000001",vg_name="vg0"} 1.0
# HELP node_disk_device_mapper_backing_device_info Info about the underlying block devices of a device mapper device.
# TYPE node_disk_device_mapper_backing_device_info gauge
node_disk_device_mapper_backing_device_info{backing_device="sda",device="dm-0"} 1.0
# HELP node_disk_flush_requests_total The total number of flush requests completed successfully
# TYPE node_disk_flush_requests_total counter
node_disk_flush_requests_total{device="nvme0n1"} 100.0
# HELP node_disk_flush_requests_time_seconds_total This is the total number of seconds spent by all flush requests.
# TYPE node_disk_flush_requests_time_seconds_total counter
node_disk_flush_requests_time_seconds_total{device="nvme0n1"} 0.02
""",  # noqa: E501
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_output_is_exact(name: str) -> None:
    assert exposition(build(name)) == EXPECTED[name]


def test_every_system_collector_is_registered_and_on_by_default() -> None:
    found = available()
    for name in SYSTEM_COLLECTORS:
        assert name in found, name
        assert found[name].default_enabled, name


# --- filesystem --------------------------------------------------------------------------

_FS_VALUES = {"/": 1, "/run": 2, "/home": 3, "/media/with space": 4}


def _fake_statvfs(path: str) -> os.statvfs_result:
    """statvfs answers per mount (the OS boundary); /srv/nfs fails like a broken mount."""
    mountpoint = "/" + os.path.relpath(path, FIXTURES / "rootfs").removeprefix(".")
    if mountpoint == "/srv/nfs":
        raise OSError(5, "Input/output error")
    n = _FS_VALUES[mountpoint.rstrip("/") or "/"]
    return os.statvfs_result((4096, 4096, 1000 * n, 600 * n, 500 * n, 100 * n, 40 * n, 0, 0, 255))


FILESYSTEM_EXPECTED = """\
# HELP node_filesystem_size_bytes Filesystem size in bytes.
# TYPE node_filesystem_size_bytes gauge
node_filesystem_size_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 4.096e+06
node_filesystem_size_bytes{device="tmpfs",fstype="tmpfs",mountpoint="/run"} 8.192e+06
node_filesystem_size_bytes{device="/dev/sda2",fstype="ext4",mountpoint="/home"} 1.2288e+07
node_filesystem_size_bytes{device="/dev/sdb1",fstype="ext4",mountpoint="/media/with space"} 1.6384e+07
# HELP node_filesystem_free_bytes Filesystem free space in bytes.
# TYPE node_filesystem_free_bytes gauge
node_filesystem_free_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 2.4576e+06
node_filesystem_free_bytes{device="tmpfs",fstype="tmpfs",mountpoint="/run"} 4.9152e+06
node_filesystem_free_bytes{device="/dev/sda2",fstype="ext4",mountpoint="/home"} 7.3728e+06
node_filesystem_free_bytes{device="/dev/sdb1",fstype="ext4",mountpoint="/media/with space"} 9.8304e+06
# HELP node_filesystem_avail_bytes Filesystem space available to non-root users in bytes.
# TYPE node_filesystem_avail_bytes gauge
node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 2.048e+06
node_filesystem_avail_bytes{device="tmpfs",fstype="tmpfs",mountpoint="/run"} 4.096e+06
node_filesystem_avail_bytes{device="/dev/sda2",fstype="ext4",mountpoint="/home"} 6.144e+06
node_filesystem_avail_bytes{device="/dev/sdb1",fstype="ext4",mountpoint="/media/with space"} 8.192e+06
# HELP node_filesystem_files Filesystem total file nodes.
# TYPE node_filesystem_files gauge
node_filesystem_files{device="/dev/sda1",fstype="ext4",mountpoint="/"} 100.0
node_filesystem_files{device="tmpfs",fstype="tmpfs",mountpoint="/run"} 200.0
node_filesystem_files{device="/dev/sda2",fstype="ext4",mountpoint="/home"} 300.0
node_filesystem_files{device="/dev/sdb1",fstype="ext4",mountpoint="/media/with space"} 400.0
# HELP node_filesystem_files_free Filesystem total free file nodes.
# TYPE node_filesystem_files_free gauge
node_filesystem_files_free{device="/dev/sda1",fstype="ext4",mountpoint="/"} 40.0
node_filesystem_files_free{device="tmpfs",fstype="tmpfs",mountpoint="/run"} 80.0
node_filesystem_files_free{device="/dev/sda2",fstype="ext4",mountpoint="/home"} 120.0
node_filesystem_files_free{device="/dev/sdb1",fstype="ext4",mountpoint="/media/with space"} 160.0
# HELP node_filesystem_readonly Filesystem read-only status.
# TYPE node_filesystem_readonly gauge
node_filesystem_readonly{device="/dev/sda1",fstype="ext4",mountpoint="/"} 0.0
node_filesystem_readonly{device="tmpfs",fstype="tmpfs",mountpoint="/run"} 0.0
node_filesystem_readonly{device="/dev/sda2",fstype="ext4",mountpoint="/home"} 0.0
node_filesystem_readonly{device="/dev/sdb1",fstype="ext4",mountpoint="/media/with space"} 1.0
node_filesystem_readonly{device="server:/export",fstype="nfs4",mountpoint="/srv/nfs"} 0.0
# HELP node_filesystem_device_error Whether an error occurred while getting statistics for the given device.
# TYPE node_filesystem_device_error gauge
node_filesystem_device_error{device="/dev/sda1",fstype="ext4",mountpoint="/"} 0.0
node_filesystem_device_error{device="tmpfs",fstype="tmpfs",mountpoint="/run"} 0.0
node_filesystem_device_error{device="/dev/sda2",fstype="ext4",mountpoint="/home"} 0.0
node_filesystem_device_error{device="/dev/sdb1",fstype="ext4",mountpoint="/media/with space"} 0.0
node_filesystem_device_error{device="server:/export",fstype="nfs4",mountpoint="/srv/nfs"} 1.0
"""  # noqa: E501


def test_filesystem_fixture_output_is_exact() -> None:
    collector = FilesystemCollector(CollectorContext(paths=FIXTURE_PATHS), statvfs=_fake_statvfs)
    assert exposition(collector) == FILESYSTEM_EXPECTED


def test_filesystem_stuck_mount_is_an_error_until_it_recovers() -> None:
    release = threading.Event()
    calls: list[str] = []

    def statvfs(path: str) -> os.statvfs_result:
        calls.append(path)
        if path.endswith("nfs"):
            release.wait(30)
            return _fake_statvfs(str(FIXTURES / "rootfs"))
        return _fake_statvfs(path)

    config = FilesystemConfig(mount_timeout=0.05)  # type: ignore[arg-type]
    collector = FilesystemCollector(
        CollectorContext(paths=FIXTURE_PATHS, config=config), statvfs=statvfs
    )
    nfs = ("node_filesystem_device_error", (("device", "server:/export"), ("fstype", "nfs4"), ("mountpoint", "/srv/nfs")))  # fmt: skip  # noqa: E501
    nfs_size = ("node_filesystem_size_bytes", nfs[1])
    root_size = ("node_filesystem_size_bytes", (("device", "/dev/sda1"), ("fstype", "ext4"), ("mountpoint", "/")))  # fmt: skip  # noqa: E501
    try:
        first = samples(collector)
        assert first[nfs] == 1.0
        assert nfs_size not in first
        assert first[root_size] == 4096000.0  # the other mounts are still served
        # While the call is still blocked, the mount is skipped, not statted again.
        nfs_calls = sum(p.endswith("nfs") for p in calls)
        second = samples(collector)
        assert second[nfs] == 1.0
        assert sum(p.endswith("nfs") for p in calls) == nfs_calls
        assert second[root_size] == 4096000.0
    finally:
        release.set()
    deadline = time.monotonic() + 10
    while True:
        recovered = samples(collector)
        if recovered[nfs] == 0.0 or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert recovered[nfs] == 0.0
    assert recovered[nfs_size] == 4096000.0


def test_filesystem_strips_rootfs_prefix_from_container_view(tmp_path: Path) -> None:
    # Inside a container, the host's mounts appear under --path.rootfs.
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "mounts").write_text(
        "/dev/sda1 /host ext4 rw 0 0\n/dev/sda2 /host/data xfs ro 0 0\n"
        "/dev/sda3 /hostile ext4 rw 0 0\n"
    )
    paths = HostPaths(procfs=tmp_path / "proc", sysfs=tmp_path, rootfs=Path("/host"))
    seen: list[str] = []

    def statvfs(path: str) -> os.statvfs_result:
        seen.append(path)
        return os.statvfs_result((1024, 1024, 10, 5, 4, 3, 2, 0, 0, 255))

    result = samples(FilesystemCollector(CollectorContext(paths=paths), statvfs=statvfs))
    labels = {dict(k[1])["mountpoint"] for k in result}
    # /hostile merely starts with the same letters: it is not under /host.
    assert labels == {"/", "/data", "/hostile"}
    assert sorted(seen) == ["/host", "/host/data", "/host/hostile"]


def test_filesystem_follows_a_changed_mount_table(tmp_path: Path) -> None:
    # The parsed table is kept between scrapes, but only while its text stays the same.
    mounts = tmp_path / "proc" / "mounts"
    mounts.parent.mkdir()
    mounts.write_text("/dev/sda1 / ext4 rw 0 0\n")
    paths = HostPaths(procfs=tmp_path / "proc", sysfs=tmp_path, rootfs=Path("/"))

    def statvfs(path: str) -> os.statvfs_result:
        return os.statvfs_result((1024, 1024, 10, 5, 4, 3, 2, 0, 0, 255))

    collector = FilesystemCollector(CollectorContext(paths=paths), statvfs=statvfs)

    def mountpoints() -> set[str]:
        return {dict(k[1])["mountpoint"] for k in samples(collector)}

    assert mountpoints() == {"/"}
    assert mountpoints() == {"/"}
    mounts.write_text("/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /data xfs ro 0 0\n")
    assert mountpoints() == {"/", "/data"}
    mounts.write_text("/dev/sdb1 /data xfs ro 0 0\n")
    assert mountpoints() == {"/data"}


def test_filesystem_config_rejects_bad_regex() -> None:
    loader = Loader("exporter.yml")
    loader.load(FilesystemConfig, {"mount_points_exclude": "("}, "collectors.filesystem")
    assert [p.key for p in loader.problems] == ["collectors.filesystem.mount_points_exclude"]
    assert "invalid regular expression" in loader.problems[0].message


# --- cpu ---------------------------------------------------------------------------------


def _proc_stat(tmp_path: Path, idle: int, user: int) -> HostPaths:
    (tmp_path / "stat").write_text(f"cpu  {user} 0 0 {idle} 0 0 0 0 0 0\ncpu0 {user} 0 0 {idle} 0 0 0 0 0 0\n")  # fmt: skip  # noqa: E501
    return HostPaths(procfs=tmp_path, sysfs=tmp_path / "nosys", rootfs=tmp_path)


def test_cpu_counters_never_go_backwards_but_reset_on_hotplug(tmp_path: Path) -> None:
    collector = CPUCollector(CollectorContext(paths=_proc_stat(tmp_path, 10000, 500)))
    idle = ("node_cpu_seconds_total", (("cpu", "0"), ("mode", "idle")))
    user = ("node_cpu_seconds_total", (("cpu", "0"), ("mode", "user")))
    assert samples(collector)[idle] == 100.0
    _proc_stat(tmp_path, 9900, 600)  # idle 1 s backwards: a kernel accounting wobble
    wobble = samples(collector)
    assert wobble[idle] == 100.0
    assert wobble[user] == 6.0
    _proc_stat(tmp_path, 100, 50)  # 99 s backwards: the CPU was replaced (hot-plug)
    replugged = samples(collector)
    assert replugged[idle] == 1.0
    assert replugged[user] == 0.5


# --- diskstats / netdev filters ----------------------------------------------------------


def test_diskstats_include_overrides_default_exclude() -> None:
    collector = build(
        "diskstats", config=DiskstatsConfig(device_include=re.compile("^(sda1|loop0)$"))
    )
    devices = {dict(k[1])["device"] for k in samples(collector)}
    assert devices == {"sda1", "loop0"}


def test_diskstats_without_udev_still_reports_info(tmp_path: Path) -> None:
    paths = HostPaths(procfs=FIXTURES / "proc", sysfs=FIXTURES / "sys", rootfs=tmp_path)
    result = samples(DiskstatsCollector(CollectorContext(paths=paths)))
    info = [dict(k[1]) for k in result if k[0] == "node_disk_info"]
    assert {i["device"] for i in info} == {"sda", "dm-0", "nvme0n1"}
    assert all(i["model"] == "" and i["serial"] == "" for i in info)
    assert not any(k[0] == "node_disk_filesystem_info" for k in result)


def test_netdev_device_exclude() -> None:
    collector = NetdevCollector(
        CollectorContext(
            paths=FIXTURE_PATHS, config=NetdevConfig(device_exclude=re.compile("^(lo|docker.*)$"))
        )
    )
    assert {dict(k[1])["device"] for k in samples(collector)} == {"eth0"}


def test_vmstat_fields_config() -> None:
    collector = build("vmstat", config=VmstatConfig(fields=re.compile("^nr_free_pages$")))
    assert samples(collector) == {("node_vmstat_nr_free_pages", ()): 977769.0}


def test_netdev_rejects_malformed_file(tmp_path: Path) -> None:
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "dev").write_text("garbage\n")
    collector = NetdevCollector(CollectorContext(paths=HostPaths(procfs=tmp_path)))
    with pytest.raises(ValueError, match="unexpected /proc/net/dev header"):
        exposition(collector)


# --- uname / os / time / pressure --------------------------------------------------------


def test_uname_reports_this_kernel_and_fixture_domainname() -> None:
    u = os.uname()
    result = samples(UnameCollector(CollectorContext(paths=FIXTURE_PATHS)))
    labels = {
        "sysname": u.sysname,
        "release": u.release,
        "version": u.version,
        "machine": u.machine,
        "nodename": u.nodename,
        "domainname": "example.net",
    }
    assert result == {("node_uname_info", tuple(sorted(labels.items()))): 1.0}


def test_os_falls_back_to_usr_lib_and_rereads_on_change(tmp_path: Path) -> None:
    release = tmp_path / "usr" / "lib" / "os-release"
    release.parent.mkdir(parents=True)
    release.write_text('ID=alpine\nNAME="Alpine Linux"\nVERSION_ID=3.19.1\n')
    collector = OSCollector(CollectorContext(paths=HostPaths(rootfs=tmp_path)))
    version = ("node_os_version", (("id", "alpine"), ("id_like", ""), ("name", "Alpine Linux")))
    assert samples(collector)[version] == 3.19
    release.write_text('ID=alpine\nNAME="Alpine Linux"\nVERSION_ID=3.20\n')
    os.utime(release, ns=(1, 1))  # a different mtime, even on coarse-grained clocks
    assert samples(collector)[version] == 3.2


def test_os_unavailable_without_os_release(tmp_path: Path) -> None:
    collector = OSCollector(CollectorContext(paths=HostPaths(rootfs=tmp_path)))
    with pytest.raises(CollectorUnavailable, match="os-release"):
        exposition(collector)


def test_time_fixture_clocksources_and_current_time() -> None:
    before = time.time()
    result = samples(TimeCollector(CollectorContext(paths=FIXTURE_PATHS)))
    after = time.time()
    assert before <= result["node_time_seconds", ()] <= after
    zone = time.localtime(after)
    key = ("node_time_zone_offset_seconds", (("time_zone", zone.tm_zone),))
    assert result[key] == zone.tm_gmtoff
    available_sources = {
        dict(k[1])["clocksource"] for k in result if k[0] == "node_time_clocksource_available_info"
    }
    assert available_sources == {"tsc", "hpet", "acpi_pm"}
    assert (
        result["node_time_clocksource_current_info", (("clocksource", "tsc"), ("device", "0"))] == 1
    )


def test_pressure_unavailable_without_psi(tmp_path: Path) -> None:
    collector = PressureCollector(CollectorContext(paths=HostPaths(procfs=tmp_path)))
    with pytest.raises(CollectorUnavailable, match="CONFIG_PSI"):
        exposition(collector)


def test_pressure_without_irq_file(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "proc" / "pressure", tmp_path / "pressure")
    (tmp_path / "pressure" / "irq").unlink()
    result = samples(PressureCollector(CollectorContext(paths=HostPaths(procfs=tmp_path))))
    assert len(result) == 5
    assert ("node_pressure_irq_stalled_seconds_total", ()) not in result


@pytest.mark.parametrize("name", ["meminfo", "loadavg", "stat", "filefd", "vmstat", "diskstats"])
def test_missing_proc_file_means_unavailable(name: str, tmp_path: Path) -> None:
    with pytest.raises(CollectorUnavailable):
        exposition(build(name, paths=HostPaths(procfs=tmp_path, sysfs=tmp_path, rootfs=tmp_path)))


def test_invalid_collector_configs_are_reported_together() -> None:
    loader = Loader("exporter.yml")
    loader.load(DiskstatsConfig, {"device_exclude": "["}, "collectors.diskstats")
    loader.load(NetdevConfig, {"device_include": "("}, "collectors.netdev")
    loader.load(VmstatConfig, {"fields": "*"}, "collectors.vmstat")
    with pytest.raises(ConfigError) as err:
        raise ConfigError(loader.problems)
    text = str(err.value)
    assert "collectors.diskstats.device_exclude" in text
    assert "collectors.netdev.device_include" in text
    assert "collectors.vmstat.fields" in text


# --- live host ---------------------------------------------------------------------------

# A metric each collector must produce on any Linux host that has what it reads.
LIVE_MUST_HAVE = {
    "cpu": "node_cpu_seconds_total",
    "meminfo": "node_memory_MemTotal_bytes",
    "loadavg": "node_load1",
    "filesystem": "node_filesystem_device_error",
    "diskstats": None,  # a container may have no block devices left after the excludes
    "netdev": "node_network_receive_bytes_total",
    "stat": "node_boot_time_seconds",
    "uname": "node_uname_info",
    "os": "node_os_info",
    "time": "node_time_seconds",
    "filefd": "node_filefd_maximum",
    "vmstat": "node_vmstat_pgfault",
    "pressure": "node_pressure_cpu_waiting_seconds_total",
    "cpufreq": "node_cpu_scaling_frequency_hertz",
    "dmi": "node_dmi_info",
    "edac": None,  # the mc directory may exist without a controller
    "hwmon": None,  # a chip may have only sensors of types node_exporter does not read
    "nvme": None,
    "powersupplyclass": None,  # a directory may exist with no supply in it (a VM)
    "rapl": None,
    "thermal_zone": None,
    "netclass": "node_network_up",
}
# Where a hardware collector's source is absent, it must say it is unavailable.
LIVE_SOURCES = {
    "cpufreq": "/sys/devices/system/cpu/cpu0/cpufreq",
    "dmi": "/sys/class/dmi/id",
    "edac": "/sys/devices/system/edac/mc",
    "hwmon": "/sys/class/hwmon",
    "nvme": "/sys/class/nvme",
    "powersupplyclass": "/sys/class/power_supply",
    "rapl": "/sys/class/powercap",
    "thermal_zone": "/sys/class/thermal",
}


@pytest.mark.parametrize("name", SYSTEM_COLLECTORS)
def test_live_host(name: str) -> None:
    if not Path("/proc/stat").exists():
        pytest.skip("not a Linux host")
    if name == "pressure" and not Path("/proc/pressure/cpu").exists():
        with pytest.raises(CollectorUnavailable):
            exposition(build(name, paths=HostPaths()))
        return
    source = LIVE_SOURCES.get(name)
    if source is not None and not Path(source).exists():
        with pytest.raises(CollectorUnavailable):
            exposition(build(name, paths=HostPaths()))
        return
    text = exposition(build(name, paths=HostPaths()))
    families = {f.name: f for f in text_string_to_metric_families(text)}
    must = LIVE_MUST_HAVE[name]
    if must is not None:
        base = must.removesuffix("_total")
        assert base in families, f"{must} missing from:\n{text}"
        assert families[base].samples
    for family in families.values():
        assert family.samples, f"{family.name} sent without samples"


# --- configuration through the exporter's config file ------------------------------------


def test_settings_load_from_the_config_file(tmp_path: Path) -> None:
    from exporter.config import load_config

    path = tmp_path / "exporter.yml"
    path.write_text(
        "collectors:\n"
        "  filesystem: {mount_points_exclude: '^/boot', mount_timeout: 2s}\n"
        "  diskstats: {device_include: '^sd'}\n"
        "  netdev: {device_exclude: '^lo$'}\n"
        "  vmstat: {fields: '^pgfault$'}\n"
    )
    config = load_config(path, available())
    fs = config.collectors["filesystem"].config
    assert isinstance(fs, FilesystemConfig)
    assert (fs.mount_points_exclude.pattern, fs.mount_timeout) == ("^/boot", 2.0)
    assert config.collectors["diskstats"].config.device_include.pattern == "^sd"
    assert config.collectors["netdev"].config.device_exclude.pattern == "^lo$"
    vmstat = available()["vmstat"](
        CollectorContext(paths=FIXTURE_PATHS, config=config.collectors["vmstat"].config)
    )
    assert samples(vmstat) == {("node_vmstat_pgfault", ()): 1005796939.0}


def test_bad_settings_in_the_config_file_name_file_and_key(tmp_path: Path) -> None:
    from exporter.config import load_config

    path = tmp_path / "exporter.yml"
    path.write_text(
        "collectors:\n"
        "  filesystem: {mount_timeout: 0s, fs_types_exclude: '(('}\n"
        "  diskstats: {device_exclud: x}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(path, available())
    keys = {p.key for p in err.value.problems}
    assert {
        "collectors.filesystem.mount_timeout",
        "collectors.filesystem.fs_types_exclude",
        "collectors.diskstats.device_exclud",
    } <= keys
    assert all(p.file == str(path) for p in err.value.problems)


def test_an_empty_device_pattern_means_not_set() -> None:
    loader = Loader("exporter.yml")
    config = loader.load(NetdevConfig, {"device_include": "", "device_exclude": "^lo$"})
    assert loader.problems == [] and config is not None
    collector = NetdevCollector(CollectorContext(paths=FIXTURE_PATHS, config=config))
    assert "lo" not in {dict(k[1])["device"] for k in samples(collector)}
