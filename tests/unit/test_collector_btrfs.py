"""btrfs: exact output against fixture /sys/fs/btrfs (a 6.x single-disk filesystem and a
4.19 four-disk raid5 one); a host without Btrfs; the module loaded with nothing mounted."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.collector import CollectorContext, CollectorUnavailable, HostPaths
from exporter.collectors.btrfs import BtrfsCollector, allocation_ratio
from tests.registry import exposition
from tests.unit.test_collectors_system import FIXTURE_PATHS

EXPECTED = """\
# HELP node_btrfs_info Filesystem information
# TYPE node_btrfs_info gauge
node_btrfs_info{label="fixture",uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 1.0
node_btrfs_info{label="",uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 1.0
# HELP node_btrfs_global_rsv_size_bytes Size of global reserve.
# TYPE node_btrfs_global_rsv_size_bytes gauge
node_btrfs_global_rsv_size_bytes{uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 1.6777216e+07
node_btrfs_global_rsv_size_bytes{uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 5.36870912e+08
# HELP node_btrfs_commits_total The total number of commits that have occurred.
# TYPE node_btrfs_commits_total counter
node_btrfs_commits_total{uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 258051.0
node_btrfs_commits_total{uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 0.0
# HELP node_btrfs_last_commit_seconds Duration of the most recent commit, in seconds.
# TYPE node_btrfs_last_commit_seconds gauge
node_btrfs_last_commit_seconds{uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 1.0
node_btrfs_last_commit_seconds{uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 0.0
# HELP node_btrfs_max_commit_seconds Duration of the slowest commit, in seconds.
# TYPE node_btrfs_max_commit_seconds gauge
node_btrfs_max_commit_seconds{uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 51.462
node_btrfs_max_commit_seconds{uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 0.0
# HELP node_btrfs_commit_seconds_total Sum of the duration of all commits, in seconds.
# TYPE node_btrfs_commit_seconds_total counter
node_btrfs_commit_seconds_total{uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 47836.09
node_btrfs_commit_seconds_total{uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 0.0
# HELP node_btrfs_reserved_bytes Amount of space reserved for a data type
# TYPE node_btrfs_reserved_bytes gauge
node_btrfs_reserved_bytes{block_group_type="data",uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 0.0
node_btrfs_reserved_bytes{block_group_type="metadata",uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 0.0
node_btrfs_reserved_bytes{block_group_type="system",uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 0.0
node_btrfs_reserved_bytes{block_group_type="data",uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 65536.0
node_btrfs_reserved_bytes{block_group_type="metadata",uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 245760.0
node_btrfs_reserved_bytes{block_group_type="system",uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 0.0
# HELP node_btrfs_used_bytes Amount of used space by a layout/data type
# TYPE node_btrfs_used_bytes gauge
node_btrfs_used_bytes{block_group_type="data",mode="single",uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 8.08189952e+08
node_btrfs_used_bytes{block_group_type="metadata",mode="dup",uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 933888.0
node_btrfs_used_bytes{block_group_type="system",mode="dup",uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 16384.0
node_btrfs_used_bytes{block_group_type="data",mode="raid5",uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 2.712893636608e+12
node_btrfs_used_bytes{block_group_type="metadata",mode="raid1",uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 5.36870912e+09
node_btrfs_used_bytes{block_group_type="system",mode="raid1",uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 229376.0
# HELP node_btrfs_size_bytes Amount of space allocated for a layout/data type
# TYPE node_btrfs_size_bytes gauge
node_btrfs_size_bytes{block_group_type="data",mode="single",uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 2.147483648e+09
node_btrfs_size_bytes{block_group_type="metadata",mode="dup",uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 1.073741824e+09
node_btrfs_size_bytes{block_group_type="system",mode="dup",uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 8.388608e+06
node_btrfs_size_bytes{block_group_type="data",mode="raid5",uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 2.989297238016e+12
node_btrfs_size_bytes{block_group_type="metadata",mode="raid1",uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 8.589934592e+09
node_btrfs_size_bytes{block_group_type="system",mode="raid1",uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 3.3554432e+07
# HELP node_btrfs_allocation_ratio Data allocation ratio for a layout/data type
# TYPE node_btrfs_allocation_ratio gauge
node_btrfs_allocation_ratio{block_group_type="data",mode="single",uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 1.0
node_btrfs_allocation_ratio{block_group_type="metadata",mode="dup",uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 2.0
node_btrfs_allocation_ratio{block_group_type="system",mode="dup",uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 2.0
node_btrfs_allocation_ratio{block_group_type="data",mode="raid5",uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 1.3333333333333333
node_btrfs_allocation_ratio{block_group_type="metadata",mode="raid1",uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 2.0
node_btrfs_allocation_ratio{block_group_type="system",mode="raid1",uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 2.0
# HELP node_btrfs_device_size_bytes Size of a device that is part of the filesystem.
# TYPE node_btrfs_device_size_bytes gauge
node_btrfs_device_size_bytes{device="sdb",uuid="0abb23a9-579b-43e6-ad30-227ef47fcb9d"} 1.073741824e+10
node_btrfs_device_size_bytes{device="sdc",uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 1.000204886016e+12
node_btrfs_device_size_bytes{device="sdd",uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 1.000204886016e+12
node_btrfs_device_size_bytes{device="sde",uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 1.000204886016e+12
node_btrfs_device_size_bytes{device="sdf",uuid="7f07c59f-6136-449c-ab87-e1cf2328731b"} 1.000204886016e+12
"""  # noqa: E501


def test_fixture_output_is_exact() -> None:
    assert exposition(BtrfsCollector(CollectorContext(paths=FIXTURE_PATHS))) == EXPECTED


def test_no_btrfs_is_unavailable(tmp_path: Path) -> None:
    paths = HostPaths(procfs=tmp_path, sysfs=tmp_path, rootfs=tmp_path)
    with pytest.raises(CollectorUnavailable):
        list(BtrfsCollector(CollectorContext(paths=paths)).collect())


def test_module_loaded_without_a_filesystem_reports_nothing(tmp_path: Path) -> None:
    (tmp_path / "fs/btrfs/features").mkdir(parents=True)
    paths = HostPaths(procfs=tmp_path, sysfs=tmp_path, rootfs=tmp_path)
    assert list(BtrfsCollector(CollectorContext(paths=paths)).collect()) == []


@pytest.mark.parametrize(
    ("layout", "devices", "ratio"),
    [("single", 1, 1.0), ("dup", 1, 2.0), ("raid1c3", 3, 3.0), ("raid5", 4, 4 / 3),
     ("raid6", 6, 1.5), ("unknown", 2, 0.0)],
)  # fmt: skip
def test_allocation_ratio_per_profile(layout: str, devices: int, ratio: float) -> None:
    assert allocation_ratio(layout, devices) == ratio
