"""tapestats: exact output against the fixture /sys/class/scsi_tape tree.

st0 is an LTO-8 drive in use, listed again as nst0 and st0a (not counted twice); st1 an
idle drive.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from exporter.collector import CollectorContext, CollectorUnavailable, HostPaths
from exporter.collectors.tapestats import TapestatsCollector, TapestatsConfig
from exporter.config import load_config
from exporter.discovery import available
from tests.conftest import FIXTURES
from tests.registry import exposition, samples

EXPECTED = """\
# HELP node_tape_io_now The number of I/Os currently outstanding to this device.
# TYPE node_tape_io_now gauge
node_tape_io_now{device="st0"} 1.0
node_tape_io_now{device="st1"} 0.0
# HELP node_tape_io_time_seconds_total The amount of time spent waiting for all I/O to complete (including read and write). This includes tape movement commands such as seeking between file or set marks and implicit tape movement such as when rewind on close tape devices are used.
# TYPE node_tape_io_time_seconds_total counter
node_tape_io_time_seconds_total{device="st0"} 9247.011234567
node_tape_io_time_seconds_total{device="st1"} 0.041210332
# HELP node_tape_io_others_total The number of I/Os issued to the tape drive other than read or write commands. The time taken to complete these commands uses the following calculation io_time_seconds_total-read_time_seconds_total-write_time_seconds_total
# TYPE node_tape_io_others_total counter
node_tape_io_others_total{device="st0"} 1457.0
node_tape_io_others_total{device="st1"} 12.0
# HELP node_tape_read_bytes_total The number of bytes read from the tape drive.
# TYPE node_tape_read_bytes_total counter
node_tape_read_bytes_total{device="st0"} 9.79383912e+08
node_tape_read_bytes_total{device="st1"} 0.0
# HELP node_tape_reads_completed_total The number of read requests issued to the tape drive.
# TYPE node_tape_reads_completed_total counter
node_tape_reads_completed_total{device="st0"} 3741.0
node_tape_reads_completed_total{device="st1"} 0.0
# HELP node_tape_read_time_seconds_total The amount of time spent waiting for read requests to complete.
# TYPE node_tape_read_time_seconds_total counter
node_tape_read_time_seconds_total{device="st0"} 33.788355744
node_tape_read_time_seconds_total{device="st1"} 0.0
# HELP node_tape_residual_total The number of times during a read or write we found the residual amount to be non-zero. This should mean that a program is issuing a read larger thean the block size on tape. For write not all data made it to tape.
# TYPE node_tape_residual_total counter
node_tape_residual_total{device="st0"} 19.0
node_tape_residual_total{device="st1"} 0.0
# HELP node_tape_written_bytes_total The number of bytes written to the tape drive.
# TYPE node_tape_written_bytes_total counter
node_tape_written_bytes_total{device="st0"} 1.496246784e+12
node_tape_written_bytes_total{device="st1"} 0.0
# HELP node_tape_writes_completed_total The number of write requests issued to the tape drive.
# TYPE node_tape_writes_completed_total counter
node_tape_writes_completed_total{device="st0"} 2853.0
node_tape_writes_completed_total{device="st1"} 0.0
# HELP node_tape_write_time_seconds_total The amount of time spent waiting for write requests to complete.
# TYPE node_tape_write_time_seconds_total counter
node_tape_write_time_seconds_total{device="st0"} 5233.597394395
node_tape_write_time_seconds_total{device="st1"} 0.0
"""  # noqa: E501


def tapestats(
    sysfs: Path = FIXTURES / "sys", config: TapestatsConfig | None = None
) -> TapestatsCollector:
    return TapestatsCollector(CollectorContext(paths=HostPaths(sysfs=sysfs), config=config))


def test_fixture_output_is_exact() -> None:
    assert exposition(tapestats()) == EXPECTED


def test_ignored_devices() -> None:
    found = samples(tapestats(config=TapestatsConfig(ignored_devices=re.compile("^st0$"))))
    assert {dict(labels)["device"] for _, labels in found} == {"st1"}


def test_ignored_devices_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "exporter.yml"
    path.write_text("collectors:\n  tapestats: {ignored_devices: '^st1$'}\n")
    config = load_config(path, available()).collectors["tapestats"].config
    assert isinstance(config, TapestatsConfig) and config.ignored_devices is not None
    assert config.ignored_devices.pattern == "^st1$"


def test_without_tape_drives_the_collector_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(CollectorUnavailable):
        exposition(tapestats(tmp_path))


def test_a_garbled_counter_fails_the_collection(tmp_path: Path) -> None:
    shutil.copytree(
        FIXTURES / "sys" / "class" / "scsi_tape" / "st1", tmp_path / "class/scsi_tape/st1"
    )
    (tmp_path / "class/scsi_tape/st1/stats/read_cnt").write_text("-1\n")
    with pytest.raises(ValueError, match="read_cnt"):
        exposition(tapestats(tmp_path))
