"""xfs: exact output against fixture /sys/fs/xfs/<device>/stats/stats (a 6.x and a 3.10 layout)."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.collector import CollectorContext, CollectorUnavailable, HostPaths
from exporter.collectors.xfs import XfsCollector
from tests.registry import exposition
from tests.unit.test_collectors_system import FIXTURE_PATHS

EXPECTED = """\
# HELP node_xfs_extent_allocation_extents_allocated_total Number of extents allocated for a filesystem.
# TYPE node_xfs_extent_allocation_extents_allocated_total counter
node_xfs_extent_allocation_extents_allocated_total{device="dm-1"} 1207.0
node_xfs_extent_allocation_extents_allocated_total{device="sdb1"} 184503.0
# HELP node_xfs_extent_allocation_blocks_allocated_total Number of blocks allocated for a filesystem.
# TYPE node_xfs_extent_allocation_blocks_allocated_total counter
node_xfs_extent_allocation_blocks_allocated_total{device="dm-1"} 33401.0
node_xfs_extent_allocation_blocks_allocated_total{device="sdb1"} 3.5947652e+07
# HELP node_xfs_extent_allocation_extents_freed_total Number of extents freed for a filesystem.
# TYPE node_xfs_extent_allocation_extents_freed_total counter
node_xfs_extent_allocation_extents_freed_total{device="dm-1"} 512.0
node_xfs_extent_allocation_extents_freed_total{device="sdb1"} 79203.0
# HELP node_xfs_extent_allocation_blocks_freed_total Number of blocks freed for a filesystem.
# TYPE node_xfs_extent_allocation_blocks_freed_total counter
node_xfs_extent_allocation_blocks_freed_total{device="dm-1"} 11270.0
node_xfs_extent_allocation_blocks_freed_total{device="sdb1"} 2.1388814e+07
# HELP node_xfs_allocation_btree_lookups_total Number of allocation B-tree lookups for a filesystem.
# TYPE node_xfs_allocation_btree_lookups_total counter
node_xfs_allocation_btree_lookups_total{device="dm-1"} 0.0
node_xfs_allocation_btree_lookups_total{device="sdb1"} 0.0
# HELP node_xfs_allocation_btree_compares_total Number of allocation B-tree compares for a filesystem.
# TYPE node_xfs_allocation_btree_compares_total counter
node_xfs_allocation_btree_compares_total{device="dm-1"} 0.0
node_xfs_allocation_btree_compares_total{device="sdb1"} 0.0
# HELP node_xfs_allocation_btree_records_inserted_total Number of allocation B-tree records inserted for a filesystem.
# TYPE node_xfs_allocation_btree_records_inserted_total counter
node_xfs_allocation_btree_records_inserted_total{device="dm-1"} 0.0
node_xfs_allocation_btree_records_inserted_total{device="sdb1"} 0.0
# HELP node_xfs_allocation_btree_records_deleted_total Number of allocation B-tree records deleted for a filesystem.
# TYPE node_xfs_allocation_btree_records_deleted_total counter
node_xfs_allocation_btree_records_deleted_total{device="dm-1"} 0.0
node_xfs_allocation_btree_records_deleted_total{device="sdb1"} 0.0
# HELP node_xfs_block_mapping_reads_total Number of block map for read operations for a filesystem.
# TYPE node_xfs_block_mapping_reads_total counter
node_xfs_block_mapping_reads_total{device="dm-1"} 88312.0
node_xfs_block_mapping_reads_total{device="sdb1"} 3.145887e+07
# HELP node_xfs_block_mapping_writes_total Number of block map for write operations for a filesystem.
# TYPE node_xfs_block_mapping_writes_total counter
node_xfs_block_mapping_writes_total{device="dm-1"} 9421.0
node_xfs_block_mapping_writes_total{device="sdb1"} 4.512376e+06
# HELP node_xfs_block_mapping_unmaps_total Number of block unmaps (deletes) for a filesystem.
# TYPE node_xfs_block_mapping_unmaps_total counter
node_xfs_block_mapping_unmaps_total{device="dm-1"} 1122.0
node_xfs_block_mapping_unmaps_total{device="sdb1"} 258413.0
# HELP node_xfs_block_mapping_extent_list_insertions_total Number of extent list insertions for a filesystem.
# TYPE node_xfs_block_mapping_extent_list_insertions_total counter
node_xfs_block_mapping_extent_list_insertions_total{device="dm-1"} 1207.0
node_xfs_block_mapping_extent_list_insertions_total{device="sdb1"} 262417.0
# HELP node_xfs_block_mapping_extent_list_deletions_total Number of extent list deletions for a filesystem.
# TYPE node_xfs_block_mapping_extent_list_deletions_total counter
node_xfs_block_mapping_extent_list_deletions_total{device="dm-1"} 512.0
node_xfs_block_mapping_extent_list_deletions_total{device="sdb1"} 162730.0
# HELP node_xfs_block_mapping_extent_list_lookups_total Number of extent list lookups for a filesystem.
# TYPE node_xfs_block_mapping_extent_list_lookups_total counter
node_xfs_block_mapping_extent_list_lookups_total{device="dm-1"} 98862.0
node_xfs_block_mapping_extent_list_lookups_total{device="sdb1"} 4.5089934e+07
# HELP node_xfs_block_mapping_extent_list_compares_total Number of extent list compares for a filesystem.
# TYPE node_xfs_block_mapping_extent_list_compares_total counter
node_xfs_block_mapping_extent_list_compares_total{device="dm-1"} 0.0
node_xfs_block_mapping_extent_list_compares_total{device="sdb1"} 0.0
# HELP node_xfs_block_map_btree_lookups_total Number of block map B-tree lookups for a filesystem.
# TYPE node_xfs_block_map_btree_lookups_total counter
node_xfs_block_map_btree_lookups_total{device="dm-1"} 0.0
node_xfs_block_map_btree_lookups_total{device="sdb1"} 1022.0
# HELP node_xfs_block_map_btree_compares_total Number of block map B-tree compares for a filesystem.
# TYPE node_xfs_block_map_btree_compares_total counter
node_xfs_block_map_btree_compares_total{device="dm-1"} 0.0
node_xfs_block_map_btree_compares_total{device="sdb1"} 0.0
# HELP node_xfs_block_map_btree_records_inserted_total Number of block map B-tree records inserted for a filesystem.
# TYPE node_xfs_block_map_btree_records_inserted_total counter
node_xfs_block_map_btree_records_inserted_total{device="dm-1"} 0.0
node_xfs_block_map_btree_records_inserted_total{device="sdb1"} 0.0
# HELP node_xfs_block_map_btree_records_deleted_total Number of block map B-tree records deleted for a filesystem.
# TYPE node_xfs_block_map_btree_records_deleted_total counter
node_xfs_block_map_btree_records_deleted_total{device="dm-1"} 0.0
node_xfs_block_map_btree_records_deleted_total{device="sdb1"} 0.0
# HELP node_xfs_directory_operation_lookup_total Number of file name directory lookups which miss the operating systems directory name lookup cache.
# TYPE node_xfs_directory_operation_lookup_total counter
node_xfs_directory_operation_lookup_total{device="dm-1"} 24590.0
node_xfs_directory_operation_lookup_total{device="sdb1"} 2.105644e+06
# HELP node_xfs_directory_operation_create_total Number of times a new directory entry was created for a filesystem.
# TYPE node_xfs_directory_operation_create_total counter
node_xfs_directory_operation_create_total{device="dm-1"} 2051.0
node_xfs_directory_operation_create_total{device="sdb1"} 231072.0
# HELP node_xfs_directory_operation_remove_total Number of times an existing directory entry was created for a filesystem.
# TYPE node_xfs_directory_operation_remove_total counter
node_xfs_directory_operation_remove_total{device="dm-1"} 1876.0
node_xfs_directory_operation_remove_total{device="sdb1"} 210117.0
# HELP node_xfs_directory_operation_getdents_total Number of times the directory getdents operation was performed for a filesystem.
# TYPE node_xfs_directory_operation_getdents_total counter
node_xfs_directory_operation_getdents_total{device="dm-1"} 18002.0
node_xfs_directory_operation_getdents_total{device="sdb1"} 3.958142e+06
# HELP node_xfs_inode_operation_attempts_total Number of times the OS looked for an XFS inode in the inode cache.
# TYPE node_xfs_inode_operation_attempts_total counter
node_xfs_inode_operation_attempts_total{device="dm-1"} 22308.0
node_xfs_inode_operation_attempts_total{device="sdb1"} 1.843209e+06
# HELP node_xfs_inode_operation_found_total Number of times the OS looked for and found an XFS inode in the inode cache.
# TYPE node_xfs_inode_operation_found_total counter
node_xfs_inode_operation_found_total{device="dm-1"} 20114.0
node_xfs_inode_operation_found_total{device="sdb1"} 1.630201e+06
# HELP node_xfs_inode_operation_recycled_total Number of times the OS found an XFS inode in the cache, but could not use it as it was being recycled.
# TYPE node_xfs_inode_operation_recycled_total counter
node_xfs_inode_operation_recycled_total{device="dm-1"} 0.0
node_xfs_inode_operation_recycled_total{device="sdb1"} 287.0
# HELP node_xfs_inode_operation_missed_total Number of times the OS looked for an XFS inode in the cache, but did not find it.
# TYPE node_xfs_inode_operation_missed_total counter
node_xfs_inode_operation_missed_total{device="dm-1"} 2194.0
node_xfs_inode_operation_missed_total{device="sdb1"} 213008.0
# HELP node_xfs_inode_operation_duplicates_total Number of times the OS tried to add a missing XFS inode to the inode cache, but found it had already been added by another process.
# TYPE node_xfs_inode_operation_duplicates_total counter
node_xfs_inode_operation_duplicates_total{device="dm-1"} 0.0
node_xfs_inode_operation_duplicates_total{device="sdb1"} 0.0
# HELP node_xfs_inode_operation_reclaims_total Number of times the OS reclaimed an XFS inode from the inode cache to free memory for another purpose.
# TYPE node_xfs_inode_operation_reclaims_total counter
node_xfs_inode_operation_reclaims_total{device="dm-1"} 1902.0
node_xfs_inode_operation_reclaims_total{device="sdb1"} 183294.0
# HELP node_xfs_inode_operation_attribute_changes_total Number of times the OS explicitly changed the attributes of an XFS inode.
# TYPE node_xfs_inode_operation_attribute_changes_total counter
node_xfs_inode_operation_attribute_changes_total{device="dm-1"} 431.0
node_xfs_inode_operation_attribute_changes_total{device="sdb1"} 27634.0
# HELP node_xfs_read_calls_total Number of read(2) system calls made to files in a filesystem.
# TYPE node_xfs_read_calls_total counter
node_xfs_read_calls_total{device="dm-1"} 312998.0
node_xfs_read_calls_total{device="sdb1"} 2.3570381e+07
# HELP node_xfs_write_calls_total Number of write(2) system calls made to files in a filesystem.
# TYPE node_xfs_write_calls_total counter
node_xfs_write_calls_total{device="dm-1"} 104223.0
node_xfs_write_calls_total{device="sdb1"} 1.0249371e+07
# HELP node_xfs_vnode_active_total Number of vnodes not on free lists for a filesystem.
# TYPE node_xfs_vnode_active_total counter
node_xfs_vnode_active_total{device="dm-1"} 292.0
node_xfs_vnode_active_total{device="sdb1"} 30724.0
# HELP node_xfs_vnode_allocate_total Number of times vn_alloc called for a filesystem.
# TYPE node_xfs_vnode_allocate_total counter
node_xfs_vnode_allocate_total{device="dm-1"} 0.0
node_xfs_vnode_allocate_total{device="sdb1"} 0.0
# HELP node_xfs_vnode_get_total Number of times vn_get called for a filesystem.
# TYPE node_xfs_vnode_get_total counter
node_xfs_vnode_get_total{device="dm-1"} 0.0
node_xfs_vnode_get_total{device="sdb1"} 0.0
# HELP node_xfs_vnode_hold_total Number of times vn_hold called for a filesystem.
# TYPE node_xfs_vnode_hold_total counter
node_xfs_vnode_hold_total{device="dm-1"} 0.0
node_xfs_vnode_hold_total{device="sdb1"} 0.0
# HELP node_xfs_vnode_release_total Number of times vn_rele called for a filesystem.
# TYPE node_xfs_vnode_release_total counter
node_xfs_vnode_release_total{device="dm-1"} 1902.0
node_xfs_vnode_release_total{device="sdb1"} 182264.0
# HELP node_xfs_vnode_reclaim_total Number of times vn_reclaim called for a filesystem.
# TYPE node_xfs_vnode_reclaim_total counter
node_xfs_vnode_reclaim_total{device="dm-1"} 1902.0
node_xfs_vnode_reclaim_total{device="sdb1"} 182264.0
# HELP node_xfs_vnode_remove_total Number of times vn_remove called for a filesystem.
# TYPE node_xfs_vnode_remove_total counter
node_xfs_vnode_remove_total{device="dm-1"} 1902.0
node_xfs_vnode_remove_total{device="sdb1"} 182264.0
"""  # noqa: E501


def test_fixture_output_is_exact() -> None:
    assert exposition(XfsCollector(CollectorContext(paths=FIXTURE_PATHS))) == EXPECTED


def test_absent_files_make_it_unavailable(tmp_path: Path) -> None:
    paths = HostPaths(procfs=tmp_path, sysfs=tmp_path, rootfs=tmp_path)
    with pytest.raises(CollectorUnavailable):
        list(XfsCollector(CollectorContext(paths=paths)).collect())


def test_module_loaded_without_a_mounted_xfs_reports_nothing(tmp_path: Path) -> None:
    # As node_exporter: only the global /sys/fs/xfs/stats exists, so no series and no error.
    (tmp_path / "fs/xfs/stats").mkdir(parents=True)
    (tmp_path / "fs/xfs/stats/stats").write_text("extent_alloc 0 0 0 0\n")
    paths = HostPaths(procfs=tmp_path, sysfs=tmp_path, rootfs=tmp_path)
    assert list(XfsCollector(CollectorContext(paths=paths)).collect()) == []
