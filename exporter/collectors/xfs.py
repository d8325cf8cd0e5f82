"""xfs: per-filesystem XFS counters from /sys/fs/xfs/<device>/stats/stats, as node_exporter.

node_exporter reads only the per-device files (not the global /proc/fs/xfs/stat), so a
host with the xfs module loaded and nothing mounted reports no series.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, register
from exporter.families import Family, counter
from exporter.procfs import read_text

# stats line → (value count the kernel writes, [(column, metric suffix, help)]).
_LINES: dict[str, tuple[tuple[int, ...], list[tuple[int, str, str]]]] = {
    "extent_alloc": (
        (4,),
        [
            (0, "extent_allocation_extents_allocated", "Number of extents allocated for a filesystem."),  # noqa: E501
            (1, "extent_allocation_blocks_allocated", "Number of blocks allocated for a filesystem."),  # noqa: E501
            (2, "extent_allocation_extents_freed", "Number of extents freed for a filesystem."),
            (3, "extent_allocation_blocks_freed", "Number of blocks freed for a filesystem."),
        ],
    ),
    "abt": (
        (4,),
        [
            (0, "allocation_btree_lookups", "Number of allocation B-tree lookups for a filesystem."),  # noqa: E501
            (1, "allocation_btree_compares", "Number of allocation B-tree compares for a filesystem."),  # noqa: E501
            (2, "allocation_btree_records_inserted", "Number of allocation B-tree records inserted for a filesystem."),  # noqa: E501
            (3, "allocation_btree_records_deleted", "Number of allocation B-tree records deleted for a filesystem."),  # noqa: E501
        ],
    ),
    "blk_map": (
        (7,),
        [
            (0, "block_mapping_reads", "Number of block map for read operations for a filesystem."),
            (1, "block_mapping_writes", "Number of block map for write operations for a filesystem."),  # noqa: E501
            (2, "block_mapping_unmaps", "Number of block unmaps (deletes) for a filesystem."),
            (3, "block_mapping_extent_list_insertions", "Number of extent list insertions for a filesystem."),  # noqa: E501
            (4, "block_mapping_extent_list_deletions", "Number of extent list deletions for a filesystem."),  # noqa: E501
            (5, "block_mapping_extent_list_lookups", "Number of extent list lookups for a filesystem."),  # noqa: E501
            (6, "block_mapping_extent_list_compares", "Number of extent list compares for a filesystem."),  # noqa: E501
        ],
    ),
    "bmbt": (
        (4,),
        [
            (0, "block_map_btree_lookups", "Number of block map B-tree lookups for a filesystem."),
            (1, "block_map_btree_compares", "Number of block map B-tree compares for a filesystem."),  # noqa: E501
            (2, "block_map_btree_records_inserted", "Number of block map B-tree records inserted for a filesystem."),  # noqa: E501
            (3, "block_map_btree_records_deleted", "Number of block map B-tree records deleted for a filesystem."),  # noqa: E501
        ],
    ),
    "dir": (
        (4,),
        [
            (0, "directory_operation_lookup", "Number of file name directory lookups which miss the operating systems directory name lookup cache."),  # noqa: E501
            (1, "directory_operation_create", "Number of times a new directory entry was created for a filesystem."),  # noqa: E501
            # node_exporter's help text says "created" here too; kept for parity.
            (2, "directory_operation_remove", "Number of times an existing directory entry was created for a filesystem."),  # noqa: E501
            (3, "directory_operation_getdents", "Number of times the directory getdents operation was performed for a filesystem."),  # noqa: E501
        ],
    ),
    "ig": (
        (7,),
        [
            (0, "inode_operation_attempts", "Number of times the OS looked for an XFS inode in the inode cache."),  # noqa: E501
            (1, "inode_operation_found", "Number of times the OS looked for and found an XFS inode in the inode cache."),  # noqa: E501
            (2, "inode_operation_recycled", "Number of times the OS found an XFS inode in the cache, but could not use it as it was being recycled."),  # noqa: E501
            (3, "inode_operation_missed", "Number of times the OS looked for an XFS inode in the cache, but did not find it."),  # noqa: E501
            (4, "inode_operation_duplicates", "Number of times the OS tried to add a missing XFS inode to the inode cache, but found it had already been added by another process."),  # noqa: E501
            (5, "inode_operation_reclaims", "Number of times the OS reclaimed an XFS inode from the inode cache to free memory for another purpose."),  # noqa: E501
            (6, "inode_operation_attribute_changes", "Number of times the OS explicitly changed the attributes of an XFS inode."),  # noqa: E501
        ],
    ),
    "rw": (
        (2,),
        [
            # The kernel writes the write count first.
            (1, "read_calls", "Number of read(2) system calls made to files in a filesystem."),
            (0, "write_calls", "Number of write(2) system calls made to files in a filesystem."),
        ],
    ),
    "vnodes": (
        # Kernels before 4.x have no eighth (free) column.
        (7, 8),
        [
            (0, "vnode_active", "Number of vnodes not on free lists for a filesystem."),
            (1, "vnode_allocate", "Number of times vn_alloc called for a filesystem."),
            (2, "vnode_get", "Number of times vn_get called for a filesystem."),
            (3, "vnode_hold", "Number of times vn_hold called for a filesystem."),
            (4, "vnode_release", "Number of times vn_rele called for a filesystem."),
            (5, "vnode_reclaim", "Number of times vn_reclaim called for a filesystem."),
            (6, "vnode_remove", "Number of times vn_remove called for a filesystem."),
        ],
    ),
}  # fmt: skip


def parse_xfs_stats(text: str) -> dict[str, float]:
    """Metric suffix → value for the lines node_exporter reports; a missing line reads 0."""
    values = {suffix: 0.0 for _, rows in _LINES.values() for _, suffix, _ in rows}
    for line in text.splitlines():
        label, _, rest = line.partition(" ")
        spec = _LINES.get(label)
        if spec is None:
            continue
        counts, rows = spec
        numbers = rest.split()
        if len(numbers) not in counts:
            raise ValueError(f"XFS stats line {label!r}: {len(numbers)} values")
        for column, suffix, _ in rows:
            values[suffix] = float(int(numbers[column]))
    return values


@register
class XfsCollector(Collector):
    """Allocation, block mapping, directory, inode, read/write and vnode counters per XFS."""

    name = "xfs"
    description = "XFS statistics from /sys/fs/xfs/<device>/stats/stats"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._root = str(self.paths.sys("fs/xfs"))

    def collect(self) -> Iterable[Metric]:
        try:
            entries = sorted(os.listdir(self._root))
        except FileNotFoundError as exc:
            raise CollectorUnavailable(f"{self._root} does not exist (no XFS)") from exc
        devices: list[tuple[str, dict[str, float]]] = []
        for device in entries:
            try:
                text = read_text(f"{self._root}/{device}/stats/stats")
            except (FileNotFoundError, NotADirectoryError):
                continue  # /sys/fs/xfs/stats is the global copy, not a device
            devices.append((device, parse_xfs_stats(text)))
        if not devices:
            return
        for _, rows in _LINES.values():
            for _, suffix, help_text in rows:
                family: Family = counter(f"node_xfs_{suffix}_total", help_text, ["device"])
                family.values.extend(((device,), values[suffix]) for device, values in devices)
                yield family
