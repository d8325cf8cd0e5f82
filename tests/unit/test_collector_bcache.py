"""bcache: exact output against fixture /sys/fs/bcache (a 5.x cache set in writeback mode
and a 3.10 one with readahead counts and the older writeback_rate_debug); priority stats;
humanised values read as procfs reads them; a host without bcache."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.collector import CollectorContext, CollectorUnavailable, HostPaths
from exporter.collectors.bcache import BcacheCollector, BcacheConfig, dehumanize, dehumanize_signed
from tests.registry import exposition
from tests.unit.test_collectors_system import FIXTURE_PATHS

EXPECTED = """\
# HELP node_bcache_average_key_size_sectors Average data per key in the btree (sectors).
# TYPE node_bcache_average_key_size_sectors gauge
node_bcache_average_key_size_sectors{uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 9716.0
node_bcache_average_key_size_sectors{uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 64712.0
# HELP node_bcache_btree_cache_size_bytes Amount of memory currently used by the btree cache.
# TYPE node_bcache_btree_cache_size_bytes gauge
node_bcache_btree_cache_size_bytes{uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 7.340032e+06
node_bcache_btree_cache_size_bytes{uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 5.7339904e+07
# HELP node_bcache_cache_available_percent Percentage of cache device without dirty data, usable for writeback (may contain clean cached data).
# TYPE node_bcache_cache_available_percent gauge
node_bcache_cache_available_percent{uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 71.0
node_bcache_cache_available_percent{uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 97.0
# HELP node_bcache_congested Congestion.
# TYPE node_bcache_congested gauge
node_bcache_congested{uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 1.0
node_bcache_congested{uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 0.0
# HELP node_bcache_root_usage_percent Percentage of the root btree node in use (tree depth increases if too high).
# TYPE node_bcache_root_usage_percent gauge
node_bcache_root_usage_percent{uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 38.0
node_bcache_root_usage_percent{uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 2.0
# HELP node_bcache_tree_depth Depth of the btree.
# TYPE node_bcache_tree_depth gauge
node_bcache_tree_depth{uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 1.0
node_bcache_tree_depth{uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 2.0
# HELP node_bcache_active_journal_entries Number of journal entries that are newer than the index.
# TYPE node_bcache_active_journal_entries gauge
node_bcache_active_journal_entries{uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 17.0
node_bcache_active_journal_entries{uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 1.0
# HELP node_bcache_btree_nodes Total nodes in the btree.
# TYPE node_bcache_btree_nodes gauge
node_bcache_btree_nodes{uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 12.0
node_bcache_btree_nodes{uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 133.0
# HELP node_bcache_btree_read_average_duration_seconds Average btree read duration.
# TYPE node_bcache_btree_read_average_duration_seconds gauge
node_bcache_btree_read_average_duration_seconds{uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 3.721e-06
node_bcache_btree_read_average_duration_seconds{uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 1.305e-06
# HELP node_bcache_cache_read_races_total Counts instances where while data was being read from the cache, the bucket was reused and invalidated - i.e. where the pointer was stale after the read completed.
# TYPE node_bcache_cache_read_races_total counter
node_bcache_cache_read_races_total{uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 4.0
node_bcache_cache_read_races_total{uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 0.0
# HELP node_bcache_dirty_data_bytes Amount of dirty data for this backing device in the cache.
# TYPE node_bcache_dirty_data_bytes gauge
node_bcache_dirty_data_bytes{backing_device="bdev0",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 9.56506112e+08
node_bcache_dirty_data_bytes{backing_device="bdev1",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 0.0
node_bcache_dirty_data_bytes{backing_device="bdev0",uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 1.388314624e+09
# HELP node_bcache_dirty_target_bytes Current dirty data target threshold for this backing device in bytes.
# TYPE node_bcache_dirty_target_bytes gauge
node_bcache_dirty_target_bytes{backing_device="bdev0",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 1.073741824e+09
node_bcache_dirty_target_bytes{backing_device="bdev1",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 1.073741824e+09
node_bcache_dirty_target_bytes{backing_device="bdev0",uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 3.091202048e+09
# HELP node_bcache_writeback_rate Current writeback rate for this backing device in bytes.
# TYPE node_bcache_writeback_rate gauge
node_bcache_writeback_rate{backing_device="bdev0",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 512.0
node_bcache_writeback_rate{backing_device="bdev1",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 512.0
node_bcache_writeback_rate{backing_device="bdev0",uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 3.760128e+06
# HELP node_bcache_writeback_rate_proportional_term Current result of proportional controller, part of writeback rate
# TYPE node_bcache_writeback_rate_proportional_term gauge
node_bcache_writeback_rate_proportional_term{backing_device="bdev0",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} -234896.0
node_bcache_writeback_rate_proportional_term{backing_device="bdev1",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 0.0
node_bcache_writeback_rate_proportional_term{backing_device="bdev0",uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} -13094912.0
# HELP node_bcache_writeback_rate_integral_term Current result of integral controller, part of writeback rate
# TYPE node_bcache_writeback_rate_integral_term gauge
node_bcache_writeback_rate_integral_term{backing_device="bdev0",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 0.0
node_bcache_writeback_rate_integral_term{backing_device="bdev1",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 0.0
node_bcache_writeback_rate_integral_term{backing_device="bdev0",uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} -1224.0
# HELP node_bcache_writeback_change Last writeback rate change step for this backing device.
# TYPE node_bcache_writeback_change gauge
node_bcache_writeback_change{backing_device="bdev0",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} -7668.0
node_bcache_writeback_change{backing_device="bdev1",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 0.0
node_bcache_writeback_change{backing_device="bdev0",uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} -4096.0
# HELP node_bcache_bypassed_bytes_total Amount of IO (both reads and writes) that has bypassed the cache.
# TYPE node_bcache_bypassed_bytes_total counter
node_bcache_bypassed_bytes_total{backing_device="bdev0",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 8.4985856e+08
node_bcache_bypassed_bytes_total{backing_device="bdev1",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 0.0
node_bcache_bypassed_bytes_total{backing_device="bdev0",uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 5.78813952e+09
# HELP node_bcache_cache_hits_total Hits counted per individual IO as bcache sees them.
# TYPE node_bcache_cache_hits_total counter
node_bcache_cache_hits_total{backing_device="bdev0",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 51213.0
node_bcache_cache_hits_total{backing_device="bdev1",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 0.0
node_bcache_cache_hits_total{backing_device="bdev0",uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 289817.0
# HELP node_bcache_cache_misses_total Misses counted per individual IO as bcache sees them.
# TYPE node_bcache_cache_misses_total counter
node_bcache_cache_misses_total{backing_device="bdev0",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 9120.0
node_bcache_cache_misses_total{backing_device="bdev1",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 0.0
node_bcache_cache_misses_total{backing_device="bdev0",uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 11253.0
# HELP node_bcache_cache_bypass_hits_total Hits for IO intended to skip the cache.
# TYPE node_bcache_cache_bypass_hits_total counter
node_bcache_cache_bypass_hits_total{backing_device="bdev0",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 12.0
node_bcache_cache_bypass_hits_total{backing_device="bdev1",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 0.0
node_bcache_cache_bypass_hits_total{backing_device="bdev0",uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 1621.0
# HELP node_bcache_cache_bypass_misses_total Misses for IO intended to skip the cache.
# TYPE node_bcache_cache_bypass_misses_total counter
node_bcache_cache_bypass_misses_total{backing_device="bdev0",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 5.0
node_bcache_cache_bypass_misses_total{backing_device="bdev1",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 0.0
node_bcache_cache_bypass_misses_total{backing_device="bdev0",uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 29.0
# HELP node_bcache_cache_miss_collisions_total Instances where data insertion from cache miss raced with write (data already present).
# TYPE node_bcache_cache_miss_collisions_total counter
node_bcache_cache_miss_collisions_total{backing_device="bdev0",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 0.0
node_bcache_cache_miss_collisions_total{backing_device="bdev1",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 0.0
node_bcache_cache_miss_collisions_total{backing_device="bdev0",uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 3.0
# HELP node_bcache_cache_readaheads_total Count of times readahead occurred.
# TYPE node_bcache_cache_readaheads_total counter
node_bcache_cache_readaheads_total{backing_device="bdev0",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 311.0
# HELP node_bcache_io_errors Number of errors that have occurred, decayed by io_error_halflife.
# TYPE node_bcache_io_errors gauge
node_bcache_io_errors{cache_device="cache0",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 2.0
node_bcache_io_errors{cache_device="cache0",uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 0.0
# HELP node_bcache_metadata_written_bytes_total Sum of all non data writes (btree writes and all other metadata).
# TYPE node_bcache_metadata_written_bytes_total counter
node_bcache_metadata_written_bytes_total{cache_device="cache0",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 8.5241856e+07
node_bcache_metadata_written_bytes_total{cache_device="cache0",uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 2.566914048e+09
# HELP node_bcache_written_bytes_total Sum of all data that has been written to the cache.
# TYPE node_bcache_written_bytes_total counter
node_bcache_written_bytes_total{cache_device="cache0",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 9.768534016e+09
node_bcache_written_bytes_total{cache_device="cache0",uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 1.11224553472e+11
"""  # noqa: E501

# With priority_stats (--collector.bcache.priorityStats) these follow the families above.
PRIORITY = """\
# HELP node_bcache_priority_stats_unused_percent The percentage of the cache that doesn't contain any data.
# TYPE node_bcache_priority_stats_unused_percent gauge
node_bcache_priority_stats_unused_percent{cache_device="cache0",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 28.0
node_bcache_priority_stats_unused_percent{cache_device="cache0",uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 2.0
# HELP node_bcache_priority_stats_metadata_percent Bcache's metadata overhead.
# TYPE node_bcache_priority_stats_metadata_percent gauge
node_bcache_priority_stats_metadata_percent{cache_device="cache0",uuid="5e9f8c37-9eb1-4e11-af6c-1c83d4a6e8f1"} 3.0
node_bcache_priority_stats_metadata_percent{cache_device="cache0",uuid="deaddd54-c735-46d5-868e-f331c5fd7c74"} 1.0
"""  # noqa: E501


def test_fixture_output_is_exact() -> None:
    assert exposition(BcacheCollector(CollectorContext(paths=FIXTURE_PATHS))) == EXPECTED


def test_priority_stats_add_two_families() -> None:
    config = BcacheConfig(priority_stats=True)
    text = exposition(BcacheCollector(CollectorContext(paths=FIXTURE_PATHS, config=config)))
    assert text == EXPECTED + PRIORITY


# procfs divides the digits after the point by 10.24 whatever their count: 1.5k is
# (1 + 5/10.24) * 1024 and 12.25M is (12 + 25/10.24) * 2**20, cut to an integer.
@pytest.mark.parametrize(
    ("raw", "value"),
    [("0", 0.0), ("512", 512.0), ("1.5k", 1524.0), ("63.2k", 64712.0), ("1.3G", 1388314624.0),
     ("4.0k", 4096.0), ("12.25M", 15142912.0), ("7x", 0.0)],
)  # fmt: skip
def test_dehumanize_as_procfs(raw: str, value: float) -> None:
    assert dehumanize(raw) == value


def test_dehumanize_signed() -> None:
    assert dehumanize_signed("-1.2k") == -1224.0
    assert dehumanize_signed("230") == 230.0


def test_no_bcache_is_unavailable(tmp_path: Path) -> None:
    paths = HostPaths(procfs=tmp_path, sysfs=tmp_path, rootfs=tmp_path)
    with pytest.raises(CollectorUnavailable):
        list(BcacheCollector(CollectorContext(paths=paths)).collect())
