"""mdadm: exact output against the fixture /proc/mdstat and /sys/block/md*/md; absent md driver."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.collector import CollectorContext, CollectorUnavailable, HostPaths
from exporter.collectors.mdadm import MdadmCollector
from tests.conftest import FIXTURES
from tests.registry import exposition
from tests.unit.test_collectors_system import FIXTURE_PATHS

EXPECTED = """\
# HELP node_md_disks_required Total number of disks of device.
# TYPE node_md_disks_required gauge
node_md_disks_required{device="md0"} 2.0
node_md_disks_required{device="md1"} 4.0
node_md_disks_required{device="md2"} 4.0
node_md_disks_required{device="md3"} 4.0
node_md_disks_required{device="md4"} 2.0
node_md_disks_required{device="md127"} 0.0
# HELP node_md_disks Number of active/failed/spare disks of device.
# TYPE node_md_disks gauge
node_md_disks{device="md0",state="active"} 2.0
node_md_disks{device="md0",state="failed"} 0.0
node_md_disks{device="md0",state="spare"} 0.0
node_md_disks{device="md1",state="active"} 3.0
node_md_disks{device="md1",state="failed"} 1.0
node_md_disks{device="md1",state="spare"} 1.0
node_md_disks{device="md2",state="active"} 4.0
node_md_disks{device="md2",state="failed"} 0.0
node_md_disks{device="md2",state="spare"} 0.0
node_md_disks{device="md3",state="active"} 4.0
node_md_disks{device="md3",state="failed"} 0.0
node_md_disks{device="md3",state="spare"} 0.0
node_md_disks{device="md4",state="active"} 2.0
node_md_disks{device="md4",state="failed"} 0.0
node_md_disks{device="md4",state="spare"} 0.0
node_md_disks{device="md127",state="active"} 0.0
node_md_disks{device="md127",state="failed"} 0.0
node_md_disks{device="md127",state="spare"} 1.0
# HELP node_md_state Indicates the state of md-device.
# TYPE node_md_state gauge
node_md_state{device="md0",state="active"} 1.0
node_md_state{device="md0",state="inactive"} 0.0
node_md_state{device="md0",state="recovering"} 0.0
node_md_state{device="md0",state="resync"} 0.0
node_md_state{device="md0",state="check"} 0.0
node_md_state{device="md1",state="active"} 0.0
node_md_state{device="md1",state="inactive"} 0.0
node_md_state{device="md1",state="recovering"} 1.0
node_md_state{device="md1",state="resync"} 0.0
node_md_state{device="md1",state="check"} 0.0
node_md_state{device="md2",state="active"} 0.0
node_md_state{device="md2",state="inactive"} 0.0
node_md_state{device="md2",state="recovering"} 0.0
node_md_state{device="md2",state="resync"} 0.0
node_md_state{device="md2",state="check"} 1.0
node_md_state{device="md3",state="active"} 0.0
node_md_state{device="md3",state="inactive"} 0.0
node_md_state{device="md3",state="recovering"} 0.0
node_md_state{device="md3",state="resync"} 1.0
node_md_state{device="md3",state="check"} 0.0
node_md_state{device="md4",state="active"} 1.0
node_md_state{device="md4",state="inactive"} 0.0
node_md_state{device="md4",state="recovering"} 0.0
node_md_state{device="md4",state="resync"} 0.0
node_md_state{device="md4",state="check"} 0.0
node_md_state{device="md127",state="active"} 0.0
node_md_state{device="md127",state="inactive"} 1.0
node_md_state{device="md127",state="recovering"} 0.0
node_md_state{device="md127",state="resync"} 0.0
node_md_state{device="md127",state="check"} 0.0
# HELP node_md_blocks Total number of blocks on device.
# TYPE node_md_blocks gauge
node_md_blocks{device="md0"} 1.046528e+06
node_md_blocks{device="md1"} 5.86027008e+09
node_md_blocks{device="md2"} 3.906762752e+09
node_md_blocks{device="md3"} 1.953260544e+09
node_md_blocks{device="md4"} 1.953260544e+09
node_md_blocks{device="md127"} 5288.0
# HELP node_md_blocks_synced Number of blocks synced on device.
# TYPE node_md_blocks_synced gauge
node_md_blocks_synced{device="md0"} 1.046528e+06
node_md_blocks_synced{device="md1"} 5.35548416e+08
node_md_blocks_synced{device="md2"} 2.34518528e+08
node_md_blocks_synced{device="md3"} 0.0
node_md_blocks_synced{device="md4"} 1.953260544e+09
node_md_blocks_synced{device="md127"} 5288.0
# HELP node_md_raid_disks Number of raid disks on device.
# TYPE node_md_raid_disks gauge
node_md_raid_disks{device="md0"} 2.0
node_md_raid_disks{device="md1"} 4.0
node_md_raid_disks{device="md2"} 4.0
node_md_raid_disks{device="md3"} 4.0
node_md_raid_disks{device="md4"} 2.0
# HELP node_md_degraded Number of degraded disks on device.
# TYPE node_md_degraded gauge
node_md_degraded{device="md0"} 0.0
node_md_degraded{device="md1"} 1.0
node_md_degraded{device="md127"} 0.0
node_md_degraded{device="md2"} 0.0
node_md_degraded{device="md3"} 0.0
node_md_degraded{device="md4"} 0.0
"""


# A 3.10-era mdstat: a reshape (in none of the five states), a delayed resync, write-mostly
# and replacement members, a linear array; no sysfs md directories.
MDSTAT_3_10 = HostPaths(procfs=FIXTURES / "mdadm-3.10" / "proc", sysfs=FIXTURES / "mdadm-3.10")
EXPECTED_3_10 = """\
# HELP node_md_disks_required Total number of disks of device.
# TYPE node_md_disks_required gauge
node_md_disks_required{device="md10"} 4.0
node_md_disks_required{device="md11"} 2.0
node_md_disks_required{device="md12"} 2.0
node_md_disks_required{device="md13"} 2.0
# HELP node_md_disks Number of active/failed/spare disks of device.
# TYPE node_md_disks gauge
node_md_disks{device="md10",state="active"} 4.0
node_md_disks{device="md10",state="failed"} 0.0
node_md_disks{device="md10",state="spare"} 0.0
node_md_disks{device="md11",state="active"} 2.0
node_md_disks{device="md11",state="failed"} 0.0
node_md_disks{device="md11",state="spare"} 0.0
node_md_disks{device="md12",state="active"} 2.0
node_md_disks{device="md12",state="failed"} 0.0
node_md_disks{device="md12",state="spare"} 0.0
node_md_disks{device="md13",state="active"} 1.0
node_md_disks{device="md13",state="failed"} 0.0
node_md_disks{device="md13",state="spare"} 0.0
# HELP node_md_state Indicates the state of md-device.
# TYPE node_md_state gauge
node_md_state{device="md10",state="active"} 0.0
node_md_state{device="md10",state="inactive"} 0.0
node_md_state{device="md10",state="recovering"} 0.0
node_md_state{device="md10",state="resync"} 0.0
node_md_state{device="md10",state="check"} 0.0
node_md_state{device="md11",state="active"} 0.0
node_md_state{device="md11",state="inactive"} 0.0
node_md_state{device="md11",state="recovering"} 0.0
node_md_state{device="md11",state="resync"} 1.0
node_md_state{device="md11",state="check"} 0.0
node_md_state{device="md12",state="active"} 1.0
node_md_state{device="md12",state="inactive"} 0.0
node_md_state{device="md12",state="recovering"} 0.0
node_md_state{device="md12",state="resync"} 0.0
node_md_state{device="md12",state="check"} 0.0
node_md_state{device="md13",state="active"} 0.0
node_md_state{device="md13",state="inactive"} 0.0
node_md_state{device="md13",state="recovering"} 1.0
node_md_state{device="md13",state="resync"} 0.0
node_md_state{device="md13",state="check"} 0.0
# HELP node_md_blocks Total number of blocks on device.
# TYPE node_md_blocks gauge
node_md_blocks{device="md10"} 2.929890816e+09
node_md_blocks{device="md11"} 4.88254464e+08
node_md_blocks{device="md12"} 1.953519616e+09
node_md_blocks{device="md13"} 9.76630464e+08
# HELP node_md_blocks_synced Number of blocks synced on device.
# TYPE node_md_blocks_synced gauge
node_md_blocks_synced{device="md10"} 2.12187136e+08
node_md_blocks_synced{device="md11"} 0.0
node_md_blocks_synced{device="md12"} 1.953519616e+09
node_md_blocks_synced{device="md13"} 3.096832e+06
"""


def test_fixture_output_is_exact() -> None:
    assert exposition(MdadmCollector(CollectorContext(paths=FIXTURE_PATHS))) == EXPECTED


def test_absent_files_make_it_unavailable(tmp_path: Path) -> None:
    paths = HostPaths(procfs=tmp_path, sysfs=tmp_path, rootfs=tmp_path)
    with pytest.raises(CollectorUnavailable):
        list(MdadmCollector(CollectorContext(paths=paths)).collect())


def test_older_mdstat_output_is_exact() -> None:
    assert exposition(MdadmCollector(CollectorContext(paths=MDSTAT_3_10))) == EXPECTED_3_10
