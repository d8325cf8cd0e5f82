"""zfs: exact output against fixture kstat trees of OpenZFS 2.1 (tests/fixtures/proc) and
0.7 (tests/fixtures/zfs-0.7), and a host without the ZFS module."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.collector import CollectorContext, CollectorUnavailable, HostPaths
from exporter.collectors.zfs import ZfsCollector
from tests.conftest import FIXTURES
from tests.registry import exposition
from tests.unit.test_collectors_system import FIXTURE_PATHS

ZFS_07 = HostPaths(procfs=FIXTURES / "zfs-0.7" / "proc", sysfs=FIXTURES / "sys")

# OpenZFS 2.1: pool state and per-dataset objset kstats (one dataset name with a space),
# a signed kstat (memory_available_bytes), dashes in names (fm), no per-pool io kstat.
EXPECTED_2_1 = """\
# HELP node_zfs_abd_struct_size kstat.zfs.misc.abdstats.struct_size
# TYPE node_zfs_abd_struct_size untyped
node_zfs_abd_struct_size 1.2341248e+07
# HELP node_zfs_abd_linear_cnt kstat.zfs.misc.abdstats.linear_cnt
# TYPE node_zfs_abd_linear_cnt untyped
node_zfs_abd_linear_cnt 2341.0
# HELP node_zfs_abd_linear_data_size kstat.zfs.misc.abdstats.linear_data_size
# TYPE node_zfs_abd_linear_data_size untyped
node_zfs_abd_linear_data_size 7.8123008e+07
# HELP node_zfs_abd_scatter_cnt kstat.zfs.misc.abdstats.scatter_cnt
# TYPE node_zfs_abd_scatter_cnt untyped
node_zfs_abd_scatter_cnt 98123.0
# HELP node_zfs_abd_scatter_data_size kstat.zfs.misc.abdstats.scatter_data_size
# TYPE node_zfs_abd_scatter_data_size untyped
node_zfs_abd_scatter_data_size 7.234123776e+09
# HELP node_zfs_abd_scatter_chunk_waste kstat.zfs.misc.abdstats.scatter_chunk_waste
# TYPE node_zfs_abd_scatter_chunk_waste untyped
node_zfs_abd_scatter_chunk_waste 0.0
# HELP node_zfs_abd_scatter_order_0 kstat.zfs.misc.abdstats.scatter_order_0
# TYPE node_zfs_abd_scatter_order_0 untyped
node_zfs_abd_scatter_order_0 23412.0
# HELP node_zfs_abd_scatter_order_1 kstat.zfs.misc.abdstats.scatter_order_1
# TYPE node_zfs_abd_scatter_order_1 untyped
node_zfs_abd_scatter_order_1 1234.0
# HELP node_zfs_abd_scatter_order_2 kstat.zfs.misc.abdstats.scatter_order_2
# TYPE node_zfs_abd_scatter_order_2 untyped
node_zfs_abd_scatter_order_2 812.0
# HELP node_zfs_abd_scatter_page_multi_chunk kstat.zfs.misc.abdstats.scatter_page_multi_chunk
# TYPE node_zfs_abd_scatter_page_multi_chunk untyped
node_zfs_abd_scatter_page_multi_chunk 0.0
# HELP node_zfs_abd_scatter_page_multi_zone kstat.zfs.misc.abdstats.scatter_page_multi_zone
# TYPE node_zfs_abd_scatter_page_multi_zone untyped
node_zfs_abd_scatter_page_multi_zone 12.0
# HELP node_zfs_abd_scatter_page_alloc_retry kstat.zfs.misc.abdstats.scatter_page_alloc_retry
# TYPE node_zfs_abd_scatter_page_alloc_retry untyped
node_zfs_abd_scatter_page_alloc_retry 0.0
# HELP node_zfs_abd_scatter_sg_table_retry kstat.zfs.misc.abdstats.scatter_sg_table_retry
# TYPE node_zfs_abd_scatter_sg_table_retry untyped
node_zfs_abd_scatter_sg_table_retry 0.0
# HELP node_zfs_arc_hits kstat.zfs.misc.arcstats.hits
# TYPE node_zfs_arc_hits untyped
node_zfs_arc_hits 2.351234123e+09
# HELP node_zfs_arc_misses kstat.zfs.misc.arcstats.misses
# TYPE node_zfs_arc_misses untyped
node_zfs_arc_misses 1.8234521e+07
# HELP node_zfs_arc_demand_data_hits kstat.zfs.misc.arcstats.demand_data_hits
# TYPE node_zfs_arc_demand_data_hits untyped
node_zfs_arc_demand_data_hits 1.623412312e+09
# HELP node_zfs_arc_demand_data_misses kstat.zfs.misc.arcstats.demand_data_misses
# TYPE node_zfs_arc_demand_data_misses untyped
node_zfs_arc_demand_data_misses 4.123412e+06
# HELP node_zfs_arc_demand_metadata_hits kstat.zfs.misc.arcstats.demand_metadata_hits
# TYPE node_zfs_arc_demand_metadata_hits untyped
node_zfs_arc_demand_metadata_hits 7.12398123e+08
# HELP node_zfs_arc_demand_metadata_misses kstat.zfs.misc.arcstats.demand_metadata_misses
# TYPE node_zfs_arc_demand_metadata_misses untyped
node_zfs_arc_demand_metadata_misses 1.232311e+06
# HELP node_zfs_arc_prefetch_data_hits kstat.zfs.misc.arcstats.prefetch_data_hits
# TYPE node_zfs_arc_prefetch_data_hits untyped
node_zfs_arc_prefetch_data_hits 12312.0
# HELP node_zfs_arc_prefetch_data_misses kstat.zfs.misc.arcstats.prefetch_data_misses
# TYPE node_zfs_arc_prefetch_data_misses untyped
node_zfs_arc_prefetch_data_misses 1.2734512e+07
# HELP node_zfs_arc_prefetch_metadata_hits kstat.zfs.misc.arcstats.prefetch_metadata_hits
# TYPE node_zfs_arc_prefetch_metadata_hits untyped
node_zfs_arc_prefetch_metadata_hits 1.5411376e+07
# HELP node_zfs_arc_prefetch_metadata_misses kstat.zfs.misc.arcstats.prefetch_metadata_misses
# TYPE node_zfs_arc_prefetch_metadata_misses untyped
node_zfs_arc_prefetch_metadata_misses 144286.0
# HELP node_zfs_arc_mru_hits kstat.zfs.misc.arcstats.mru_hits
# TYPE node_zfs_arc_mru_hits untyped
node_zfs_arc_mru_hits 4.12398112e+08
# HELP node_zfs_arc_mru_ghost_hits kstat.zfs.misc.arcstats.mru_ghost_hits
# TYPE node_zfs_arc_mru_ghost_hits untyped
node_zfs_arc_mru_ghost_hits 123412.0
# HELP node_zfs_arc_mfu_hits kstat.zfs.misc.arcstats.mfu_hits
# TYPE node_zfs_arc_mfu_hits untyped
node_zfs_arc_mfu_hits 1.923412398e+09
# HELP node_zfs_arc_mfu_ghost_hits kstat.zfs.misc.arcstats.mfu_ghost_hits
# TYPE node_zfs_arc_mfu_ghost_hits untyped
node_zfs_arc_mfu_ghost_hits 98123.0
# HELP node_zfs_arc_deleted kstat.zfs.misc.arcstats.deleted
# TYPE node_zfs_arc_deleted untyped
node_zfs_arc_deleted 2.1523412e+07
# HELP node_zfs_arc_mutex_miss kstat.zfs.misc.arcstats.mutex_miss
# TYPE node_zfs_arc_mutex_miss untyped
node_zfs_arc_mutex_miss 1234.0
# HELP node_zfs_arc_access_skip kstat.zfs.misc.arcstats.access_skip
# TYPE node_zfs_arc_access_skip untyped
node_zfs_arc_access_skip 3.0
# HELP node_zfs_arc_evict_skip kstat.zfs.misc.arcstats.evict_skip
# TYPE node_zfs_arc_evict_skip untyped
node_zfs_arc_evict_skip 1283.0
# HELP node_zfs_arc_evict_not_enough kstat.zfs.misc.arcstats.evict_not_enough
# TYPE node_zfs_arc_evict_not_enough untyped
node_zfs_arc_evict_not_enough 12.0
# HELP node_zfs_arc_evict_l2_cached kstat.zfs.misc.arcstats.evict_l2_cached
# TYPE node_zfs_arc_evict_l2_cached untyped
node_zfs_arc_evict_l2_cached 0.0
# HELP node_zfs_arc_evict_l2_eligible kstat.zfs.misc.arcstats.evict_l2_eligible
# TYPE node_zfs_arc_evict_l2_eligible untyped
node_zfs_arc_evict_l2_eligible 1.823412352512e+12
# HELP node_zfs_arc_hash_elements kstat.zfs.misc.arcstats.hash_elements
# TYPE node_zfs_arc_hash_elements untyped
node_zfs_arc_hash_elements 981234.0
# HELP node_zfs_arc_hash_elements_max kstat.zfs.misc.arcstats.hash_elements_max
# TYPE node_zfs_arc_hash_elements_max untyped
node_zfs_arc_hash_elements_max 1.323412e+06
# HELP node_zfs_arc_hash_collisions kstat.zfs.misc.arcstats.hash_collisions
# TYPE node_zfs_arc_hash_collisions untyped
node_zfs_arc_hash_collisions 1.2341234e+07
# HELP node_zfs_arc_hash_chains kstat.zfs.misc.arcstats.hash_chains
# TYPE node_zfs_arc_hash_chains untyped
node_zfs_arc_hash_chains 61234.0
# HELP node_zfs_arc_hash_chain_max kstat.zfs.misc.arcstats.hash_chain_max
# TYPE node_zfs_arc_hash_chain_max untyped
node_zfs_arc_hash_chain_max 6.0
# HELP node_zfs_arc_p kstat.zfs.misc.arcstats.p
# TYPE node_zfs_arc_p untyped
node_zfs_arc_p 6.123412352e+09
# HELP node_zfs_arc_c kstat.zfs.misc.arcstats.c
# TYPE node_zfs_arc_c untyped
node_zfs_arc_c 8.35634176e+09
# HELP node_zfs_arc_c_min kstat.zfs.misc.arcstats.c_min
# TYPE node_zfs_arc_c_min untyped
node_zfs_arc_c_min 5.20971264e+08
# HELP node_zfs_arc_c_max kstat.zfs.misc.arcstats.c_max
# TYPE node_zfs_arc_c_max untyped
node_zfs_arc_c_max 8.335540224e+09
# HELP node_zfs_arc_size kstat.zfs.misc.arcstats.size
# TYPE node_zfs_arc_size untyped
node_zfs_arc_size 8.32123136e+09
# HELP node_zfs_arc_compressed_size kstat.zfs.misc.arcstats.compressed_size
# TYPE node_zfs_arc_compressed_size untyped
node_zfs_arc_compressed_size 7.012341248e+09
# HELP node_zfs_arc_uncompressed_size kstat.zfs.misc.arcstats.uncompressed_size
# TYPE node_zfs_arc_uncompressed_size untyped
node_zfs_arc_uncompressed_size 1.1923412992e+10
# HELP node_zfs_arc_overhead_size kstat.zfs.misc.arcstats.overhead_size
# TYPE node_zfs_arc_overhead_size untyped
node_zfs_arc_overhead_size 6.12341248e+08
# HELP node_zfs_arc_hdr_size kstat.zfs.misc.arcstats.hdr_size
# TYPE node_zfs_arc_hdr_size untyped
node_zfs_arc_hdr_size 3.12341248e+08
# HELP node_zfs_arc_data_size kstat.zfs.misc.arcstats.data_size
# TYPE node_zfs_arc_data_size untyped
node_zfs_arc_data_size 6.823412224e+09
# HELP node_zfs_arc_metadata_size kstat.zfs.misc.arcstats.metadata_size
# TYPE node_zfs_arc_metadata_size untyped
node_zfs_arc_metadata_size 8.01234944e+08
# HELP node_zfs_arc_dbuf_size kstat.zfs.misc.arcstats.dbuf_size
# TYPE node_zfs_arc_dbuf_size untyped
node_zfs_arc_dbuf_size 1.2341248e+08
# HELP node_zfs_arc_dnode_size kstat.zfs.misc.arcstats.dnode_size
# TYPE node_zfs_arc_dnode_size untyped
node_zfs_arc_dnode_size 2.12341248e+08
# HELP node_zfs_arc_bonus_size kstat.zfs.misc.arcstats.bonus_size
# TYPE node_zfs_arc_bonus_size untyped
node_zfs_arc_bonus_size 6.1234176e+07
# HELP node_zfs_arc_l2_hits kstat.zfs.misc.arcstats.l2_hits
# TYPE node_zfs_arc_l2_hits untyped
node_zfs_arc_l2_hits 0.0
# HELP node_zfs_arc_l2_misses kstat.zfs.misc.arcstats.l2_misses
# TYPE node_zfs_arc_l2_misses untyped
node_zfs_arc_l2_misses 0.0
# HELP node_zfs_arc_l2_size kstat.zfs.misc.arcstats.l2_size
# TYPE node_zfs_arc_l2_size untyped
node_zfs_arc_l2_size 0.0
# HELP node_zfs_arc_memory_throttle_count kstat.zfs.misc.arcstats.memory_throttle_count
# TYPE node_zfs_arc_memory_throttle_count untyped
node_zfs_arc_memory_throttle_count 0.0
# HELP node_zfs_arc_memory_direct_count kstat.zfs.misc.arcstats.memory_direct_count
# TYPE node_zfs_arc_memory_direct_count untyped
node_zfs_arc_memory_direct_count 12.0
# HELP node_zfs_arc_memory_indirect_count kstat.zfs.misc.arcstats.memory_indirect_count
# TYPE node_zfs_arc_memory_indirect_count untyped
node_zfs_arc_memory_indirect_count 2341.0
# HELP node_zfs_arc_memory_all_bytes kstat.zfs.misc.arcstats.memory_all_bytes
# TYPE node_zfs_arc_memory_all_bytes untyped
node_zfs_arc_memory_all_bytes 1.6669216768e+10
# HELP node_zfs_arc_memory_free_bytes kstat.zfs.misc.arcstats.memory_free_bytes
# TYPE node_zfs_arc_memory_free_bytes untyped
node_zfs_arc_memory_free_bytes 1.02234112e+09
# HELP node_zfs_arc_memory_available_bytes kstat.zfs.misc.arcstats.memory_available_bytes
# TYPE node_zfs_arc_memory_available_bytes untyped
node_zfs_arc_memory_available_bytes -412341248.0
# HELP node_zfs_arc_arc_no_grow kstat.zfs.misc.arcstats.arc_no_grow
# TYPE node_zfs_arc_arc_no_grow untyped
node_zfs_arc_arc_no_grow 1.0
# HELP node_zfs_arc_arc_tempreserve kstat.zfs.misc.arcstats.arc_tempreserve
# TYPE node_zfs_arc_arc_tempreserve untyped
node_zfs_arc_arc_tempreserve 0.0
# HELP node_zfs_arc_arc_loaned_bytes kstat.zfs.misc.arcstats.arc_loaned_bytes
# TYPE node_zfs_arc_arc_loaned_bytes untyped
node_zfs_arc_arc_loaned_bytes 0.0
# HELP node_zfs_arc_arc_prune kstat.zfs.misc.arcstats.arc_prune
# TYPE node_zfs_arc_arc_prune untyped
node_zfs_arc_arc_prune 0.0
# HELP node_zfs_arc_arc_meta_used kstat.zfs.misc.arcstats.arc_meta_used
# TYPE node_zfs_arc_arc_meta_used untyped
node_zfs_arc_arc_meta_used 1.497841664e+09
# HELP node_zfs_arc_arc_meta_limit kstat.zfs.misc.arcstats.arc_meta_limit
# TYPE node_zfs_arc_arc_meta_limit untyped
node_zfs_arc_arc_meta_limit 6.251655168e+09
# HELP node_zfs_arc_arc_dnode_limit kstat.zfs.misc.arcstats.arc_dnode_limit
# TYPE node_zfs_arc_arc_dnode_limit untyped
node_zfs_arc_arc_dnode_limit 6.25165516e+08
# HELP node_zfs_arc_arc_meta_max kstat.zfs.misc.arcstats.arc_meta_max
# TYPE node_zfs_arc_arc_meta_max untyped
node_zfs_arc_arc_meta_max 2.12341248e+09
# HELP node_zfs_arc_arc_meta_min kstat.zfs.misc.arcstats.arc_meta_min
# TYPE node_zfs_arc_arc_meta_min untyped
node_zfs_arc_arc_meta_min 1.6777216e+07
# HELP node_zfs_arc_async_upgrade_sync kstat.zfs.misc.arcstats.async_upgrade_sync
# TYPE node_zfs_arc_async_upgrade_sync untyped
node_zfs_arc_async_upgrade_sync 1234.0
# HELP node_zfs_arc_demand_hit_predictive_prefetch kstat.zfs.misc.arcstats.demand_hit_predictive_prefetch
# TYPE node_zfs_arc_demand_hit_predictive_prefetch untyped
node_zfs_arc_demand_hit_predictive_prefetch 412341.0
# HELP node_zfs_arc_demand_hit_prescient_prefetch kstat.zfs.misc.arcstats.demand_hit_prescient_prefetch
# TYPE node_zfs_arc_demand_hit_prescient_prefetch untyped
node_zfs_arc_demand_hit_prescient_prefetch 0.0
# HELP node_zfs_arc_arc_need_free kstat.zfs.misc.arcstats.arc_need_free
# TYPE node_zfs_arc_arc_need_free untyped
node_zfs_arc_arc_need_free 0.0
# HELP node_zfs_arc_arc_sys_free kstat.zfs.misc.arcstats.arc_sys_free
# TYPE node_zfs_arc_arc_sys_free untyped
node_zfs_arc_arc_sys_free 5.20971264e+08
# HELP node_zfs_arc_arc_raw_size kstat.zfs.misc.arcstats.arc_raw_size
# TYPE node_zfs_arc_arc_raw_size untyped
node_zfs_arc_arc_raw_size 0.0
# HELP node_zfs_dbuf_dbuf_cache_count kstat.zfs.misc.dbufstats.dbuf_cache_count
# TYPE node_zfs_dbuf_dbuf_cache_count untyped
node_zfs_dbuf_dbuf_cache_count 31234.0
# HELP node_zfs_dbuf_dbuf_cache_size kstat.zfs.misc.dbufstats.dbuf_cache_size
# TYPE node_zfs_dbuf_dbuf_cache_size untyped
node_zfs_dbuf_dbuf_cache_size 9.9123456e+07
# HELP node_zfs_dbuf_dbuf_cache_size_max kstat.zfs.misc.dbufstats.dbuf_cache_size_max
# TYPE node_zfs_dbuf_dbuf_cache_size_max untyped
node_zfs_dbuf_dbuf_cache_size_max 1.2341248e+08
# HELP node_zfs_dbuf_dbuf_cache_max_bytes kstat.zfs.misc.dbufstats.dbuf_cache_max_bytes
# TYPE node_zfs_dbuf_dbuf_cache_max_bytes untyped
node_zfs_dbuf_dbuf_cache_max_bytes 2.60485632e+08
# HELP node_zfs_dbuf_dbuf_cache_lowater_bytes kstat.zfs.misc.dbufstats.dbuf_cache_lowater_bytes
# TYPE node_zfs_dbuf_dbuf_cache_lowater_bytes untyped
node_zfs_dbuf_dbuf_cache_lowater_bytes 2.34437069e+08
# HELP node_zfs_dbuf_dbuf_cache_hiwater_bytes kstat.zfs.misc.dbufstats.dbuf_cache_hiwater_bytes
# TYPE node_zfs_dbuf_dbuf_cache_hiwater_bytes untyped
node_zfs_dbuf_dbuf_cache_hiwater_bytes 2.86534195e+08
# HELP node_zfs_dbuf_hash_hits kstat.zfs.misc.dbufstats.hash_hits
# TYPE node_zfs_dbuf_hash_hits untyped
node_zfs_dbuf_hash_hits 4.12341234e+08
# HELP node_zfs_dbuf_hash_misses kstat.zfs.misc.dbufstats.hash_misses
# TYPE node_zfs_dbuf_hash_misses untyped
node_zfs_dbuf_hash_misses 4.123412e+06
# HELP node_zfs_dbuf_hash_collisions kstat.zfs.misc.dbufstats.hash_collisions
# TYPE node_zfs_dbuf_hash_collisions untyped
node_zfs_dbuf_hash_collisions 812341.0
# HELP node_zfs_dbuf_hash_elements kstat.zfs.misc.dbufstats.hash_elements
# TYPE node_zfs_dbuf_hash_elements untyped
node_zfs_dbuf_hash_elements 412341.0
# HELP node_zfs_dbuf_hash_elements_max kstat.zfs.misc.dbufstats.hash_elements_max
# TYPE node_zfs_dbuf_hash_elements_max untyped
node_zfs_dbuf_hash_elements_max 612341.0
# HELP node_zfs_dbuf_hash_chains kstat.zfs.misc.dbufstats.hash_chains
# TYPE node_zfs_dbuf_hash_chains untyped
node_zfs_dbuf_hash_chains 12341.0
# HELP node_zfs_dbuf_hash_chain_max kstat.zfs.misc.dbufstats.hash_chain_max
# TYPE node_zfs_dbuf_hash_chain_max untyped
node_zfs_dbuf_hash_chain_max 5.0
# HELP node_zfs_dbuf_hash_insert_race kstat.zfs.misc.dbufstats.hash_insert_race
# TYPE node_zfs_dbuf_hash_insert_race untyped
node_zfs_dbuf_hash_insert_race 12.0
# HELP node_zfs_dmu_tx_dmu_tx_assigned kstat.zfs.misc.dmu_tx.dmu_tx_assigned
# TYPE node_zfs_dmu_tx_dmu_tx_assigned untyped
node_zfs_dmu_tx_dmu_tx_assigned 4.1234123e+07
# HELP node_zfs_dmu_tx_dmu_tx_delay kstat.zfs.misc.dmu_tx.dmu_tx_delay
# TYPE node_zfs_dmu_tx_dmu_tx_delay untyped
node_zfs_dmu_tx_dmu_tx_delay 0.0
# HELP node_zfs_dmu_tx_dmu_tx_error kstat.zfs.misc.dmu_tx.dmu_tx_error
# TYPE node_zfs_dmu_tx_dmu_tx_error untyped
node_zfs_dmu_tx_dmu_tx_error 0.0
# HELP node_zfs_dmu_tx_dmu_tx_suspended kstat.zfs.misc.dmu_tx.dmu_tx_suspended
# TYPE node_zfs_dmu_tx_dmu_tx_suspended untyped
node_zfs_dmu_tx_dmu_tx_suspended 0.0
# HELP node_zfs_dmu_tx_dmu_tx_group kstat.zfs.misc.dmu_tx.dmu_tx_group
# TYPE node_zfs_dmu_tx_dmu_tx_group untyped
node_zfs_dmu_tx_dmu_tx_group 12.0
# HELP node_zfs_dmu_tx_dmu_tx_memory_reserve kstat.zfs.misc.dmu_tx.dmu_tx_memory_reserve
# TYPE node_zfs_dmu_tx_dmu_tx_memory_reserve untyped
node_zfs_dmu_tx_dmu_tx_memory_reserve 0.0
# HELP node_zfs_dmu_tx_dmu_tx_memory_reclaim kstat.zfs.misc.dmu_tx.dmu_tx_memory_reclaim
# TYPE node_zfs_dmu_tx_dmu_tx_memory_reclaim untyped
node_zfs_dmu_tx_dmu_tx_memory_reclaim 0.0
# HELP node_zfs_dmu_tx_dmu_tx_dirty_throttle kstat.zfs.misc.dmu_tx.dmu_tx_dirty_throttle
# TYPE node_zfs_dmu_tx_dmu_tx_dirty_throttle untyped
node_zfs_dmu_tx_dmu_tx_dirty_throttle 0.0
# HELP node_zfs_dmu_tx_dmu_tx_dirty_delay kstat.zfs.misc.dmu_tx.dmu_tx_dirty_delay
# TYPE node_zfs_dmu_tx_dmu_tx_dirty_delay untyped
node_zfs_dmu_tx_dmu_tx_dirty_delay 1234.0
# HELP node_zfs_dmu_tx_dmu_tx_dirty_over_max kstat.zfs.misc.dmu_tx.dmu_tx_dirty_over_max
# TYPE node_zfs_dmu_tx_dmu_tx_dirty_over_max untyped
node_zfs_dmu_tx_dmu_tx_dirty_over_max 2.0
# HELP node_zfs_dmu_tx_dmu_tx_dirty_frees_delay kstat.zfs.misc.dmu_tx.dmu_tx_dirty_frees_delay
# TYPE node_zfs_dmu_tx_dmu_tx_dirty_frees_delay untyped
node_zfs_dmu_tx_dmu_tx_dirty_frees_delay 0.0
# HELP node_zfs_dmu_tx_dmu_tx_quota kstat.zfs.misc.dmu_tx.dmu_tx_quota
# TYPE node_zfs_dmu_tx_dmu_tx_quota untyped
node_zfs_dmu_tx_dmu_tx_quota 0.0
# HELP node_zfs_dnode_dnode_hold_dbuf_hold kstat.zfs.misc.dnodestats.dnode_hold_dbuf_hold
# TYPE node_zfs_dnode_dnode_hold_dbuf_hold untyped
node_zfs_dnode_dnode_hold_dbuf_hold 0.0
# HELP node_zfs_dnode_dnode_hold_dbuf_read kstat.zfs.misc.dnodestats.dnode_hold_dbuf_read
# TYPE node_zfs_dnode_dnode_hold_dbuf_read untyped
node_zfs_dnode_dnode_hold_dbuf_read 0.0
# HELP node_zfs_dnode_dnode_hold_alloc_hits kstat.zfs.misc.dnodestats.dnode_hold_alloc_hits
# TYPE node_zfs_dnode_dnode_hold_alloc_hits untyped
node_zfs_dnode_dnode_hold_alloc_hits 8.1234123e+07
# HELP node_zfs_dnode_dnode_hold_alloc_misses kstat.zfs.misc.dnodestats.dnode_hold_alloc_misses
# TYPE node_zfs_dnode_dnode_hold_alloc_misses untyped
node_zfs_dnode_dnode_hold_alloc_misses 123.0
# HELP node_zfs_dnode_dnode_hold_free_hits kstat.zfs.misc.dnodestats.dnode_hold_free_hits
# TYPE node_zfs_dnode_dnode_hold_free_hits untyped
node_zfs_dnode_dnode_hold_free_hits 412341.0
# HELP node_zfs_dnode_dnode_allocate kstat.zfs.misc.dnodestats.dnode_allocate
# TYPE node_zfs_dnode_dnode_allocate untyped
node_zfs_dnode_dnode_allocate 412341.0
# HELP node_zfs_dnode_dnode_reallocate kstat.zfs.misc.dnodestats.dnode_reallocate
# TYPE node_zfs_dnode_dnode_reallocate untyped
node_zfs_dnode_dnode_reallocate 0.0
# HELP node_zfs_dnode_dnode_buf_evict kstat.zfs.misc.dnodestats.dnode_buf_evict
# TYPE node_zfs_dnode_dnode_buf_evict untyped
node_zfs_dnode_dnode_buf_evict 123412.0
# HELP node_zfs_dnode_dnode_alloc_next_chunk kstat.zfs.misc.dnodestats.dnode_alloc_next_chunk
# TYPE node_zfs_dnode_dnode_alloc_next_chunk untyped
node_zfs_dnode_dnode_alloc_next_chunk 2341.0
# HELP node_zfs_dnode_dnode_alloc_race kstat.zfs.misc.dnodestats.dnode_alloc_race
# TYPE node_zfs_dnode_dnode_alloc_race untyped
node_zfs_dnode_dnode_alloc_race 0.0
# HELP node_zfs_dnode_dnode_move_invalid kstat.zfs.misc.dnodestats.dnode_move_invalid
# TYPE node_zfs_dnode_dnode_move_invalid untyped
node_zfs_dnode_dnode_move_invalid 0.0
# HELP node_zfs_dnode_dnode_move_recheck1 kstat.zfs.misc.dnodestats.dnode_move_recheck1
# TYPE node_zfs_dnode_dnode_move_recheck1 untyped
node_zfs_dnode_dnode_move_recheck1 0.0
# HELP node_zfs_dnode_dnode_move_active kstat.zfs.misc.dnodestats.dnode_move_active
# TYPE node_zfs_dnode_dnode_move_active untyped
node_zfs_dnode_dnode_move_active 0.0
# HELP node_zfs_fm_erpt_dropped kstat.zfs.misc.fm.erpt-dropped
# TYPE node_zfs_fm_erpt_dropped untyped
node_zfs_fm_erpt_dropped 18.0
# HELP node_zfs_fm_erpt_set_failed kstat.zfs.misc.fm.erpt-set-failed
# TYPE node_zfs_fm_erpt_set_failed untyped
node_zfs_fm_erpt_set_failed 0.0
# HELP node_zfs_fm_fmri_set_failed kstat.zfs.misc.fm.fmri-set-failed
# TYPE node_zfs_fm_fmri_set_failed untyped
node_zfs_fm_fmri_set_failed 0.0
# HELP node_zfs_fm_payload_set_failed kstat.zfs.misc.fm.payload-set-failed
# TYPE node_zfs_fm_payload_set_failed untyped
node_zfs_fm_payload_set_failed 0.0
# HELP node_zfs_vdev_mirror_rotating_linear kstat.zfs.misc.vdev_mirror_stats.rotating_linear
# TYPE node_zfs_vdev_mirror_rotating_linear untyped
node_zfs_vdev_mirror_rotating_linear 0.0
# HELP node_zfs_vdev_mirror_rotating_offset kstat.zfs.misc.vdev_mirror_stats.rotating_offset
# TYPE node_zfs_vdev_mirror_rotating_offset untyped
node_zfs_vdev_mirror_rotating_offset 0.0
# HELP node_zfs_vdev_mirror_rotating_seek kstat.zfs.misc.vdev_mirror_stats.rotating_seek
# TYPE node_zfs_vdev_mirror_rotating_seek untyped
node_zfs_vdev_mirror_rotating_seek 0.0
# HELP node_zfs_vdev_mirror_non_rotating_linear kstat.zfs.misc.vdev_mirror_stats.non_rotating_linear
# TYPE node_zfs_vdev_mirror_non_rotating_linear untyped
node_zfs_vdev_mirror_non_rotating_linear 4.123412e+06
# HELP node_zfs_vdev_mirror_non_rotating_seek kstat.zfs.misc.vdev_mirror_stats.non_rotating_seek
# TYPE node_zfs_vdev_mirror_non_rotating_seek untyped
node_zfs_vdev_mirror_non_rotating_seek 12341.0
# HELP node_zfs_vdev_mirror_preferred_found kstat.zfs.misc.vdev_mirror_stats.preferred_found
# TYPE node_zfs_vdev_mirror_preferred_found untyped
node_zfs_vdev_mirror_preferred_found 412341.0
# HELP node_zfs_vdev_mirror_preferred_not_found kstat.zfs.misc.vdev_mirror_stats.preferred_not_found
# TYPE node_zfs_vdev_mirror_preferred_not_found untyped
node_zfs_vdev_mirror_preferred_not_found 2341.0
# HELP node_zfs_zfetch_hits kstat.zfs.misc.zfetchstats.hits
# TYPE node_zfs_zfetch_hits untyped
node_zfs_zfetch_hits 8.1234123e+07
# HELP node_zfs_zfetch_misses kstat.zfs.misc.zfetchstats.misses
# TYPE node_zfs_zfetch_misses untyped
node_zfs_zfetch_misses 4.123412e+06
# HELP node_zfs_zfetch_max_streams kstat.zfs.misc.zfetchstats.max_streams
# TYPE node_zfs_zfetch_max_streams untyped
node_zfs_zfetch_max_streams 3.412341e+06
# HELP node_zfs_zfetch_max_completion_us kstat.zfs.misc.zfetchstats.max_completion_us
# TYPE node_zfs_zfetch_max_completion_us untyped
node_zfs_zfetch_max_completion_us 41234.0
# HELP node_zfs_zfetch_last_completion_us kstat.zfs.misc.zfetchstats.last_completion_us
# TYPE node_zfs_zfetch_last_completion_us untyped
node_zfs_zfetch_last_completion_us 812.0
# HELP node_zfs_zfetch_max_hits kstat.zfs.misc.zfetchstats.max_hits
# TYPE node_zfs_zfetch_max_hits untyped
node_zfs_zfetch_max_hits 12.0
# HELP node_zfs_zfetch_io_issued kstat.zfs.misc.zfetchstats.io_issued
# TYPE node_zfs_zfetch_io_issued untyped
node_zfs_zfetch_io_issued 412341.0
# HELP node_zfs_zfetch_io_active kstat.zfs.misc.zfetchstats.io_active
# TYPE node_zfs_zfetch_io_active untyped
node_zfs_zfetch_io_active 0.0
# HELP node_zfs_zil_zil_commit_count kstat.zfs.misc.zil.zil_commit_count
# TYPE node_zfs_zil_zil_commit_count untyped
node_zfs_zil_zil_commit_count 1.823412e+06
# HELP node_zfs_zil_zil_commit_writer_count kstat.zfs.misc.zil.zil_commit_writer_count
# TYPE node_zfs_zil_zil_commit_writer_count untyped
node_zfs_zil_zil_commit_writer_count 1.712341e+06
# HELP node_zfs_zil_zil_itx_count kstat.zfs.misc.zil.zil_itx_count
# TYPE node_zfs_zil_zil_itx_count untyped
node_zfs_zil_zil_itx_count 4.123412e+06
# HELP node_zfs_zil_zil_itx_indirect_count kstat.zfs.misc.zil.zil_itx_indirect_count
# TYPE node_zfs_zil_zil_itx_indirect_count untyped
node_zfs_zil_zil_itx_indirect_count 12341.0
# HELP node_zfs_zil_zil_itx_indirect_bytes kstat.zfs.misc.zil.zil_itx_indirect_bytes
# TYPE node_zfs_zil_zil_itx_indirect_bytes untyped
node_zfs_zil_zil_itx_indirect_bytes 5.123412352e+09
# HELP node_zfs_zil_zil_itx_copied_count kstat.zfs.misc.zil.zil_itx_copied_count
# TYPE node_zfs_zil_zil_itx_copied_count untyped
node_zfs_zil_zil_itx_copied_count 2.341234e+06
# HELP node_zfs_zil_zil_itx_copied_bytes kstat.zfs.misc.zil.zil_itx_copied_bytes
# TYPE node_zfs_zil_zil_itx_copied_bytes untyped
node_zfs_zil_zil_itx_copied_bytes 1.234123456e+09
# HELP node_zfs_zil_zil_itx_needcopy_count kstat.zfs.misc.zil.zil_itx_needcopy_count
# TYPE node_zfs_zil_zil_itx_needcopy_count untyped
node_zfs_zil_zil_itx_needcopy_count 1.712341e+06
# HELP node_zfs_zil_zil_itx_needcopy_bytes kstat.zfs.misc.zil.zil_itx_needcopy_bytes
# TYPE node_zfs_zil_zil_itx_needcopy_bytes untyped
node_zfs_zil_zil_itx_needcopy_bytes 9.123412352e+09
# HELP node_zfs_zil_zil_itx_metaslab_normal_count kstat.zfs.misc.zil.zil_itx_metaslab_normal_count
# TYPE node_zfs_zil_zil_itx_metaslab_normal_count untyped
node_zfs_zil_zil_itx_metaslab_normal_count 1.612341e+06
# HELP node_zfs_zil_zil_itx_metaslab_normal_bytes kstat.zfs.misc.zil.zil_itx_metaslab_normal_bytes
# TYPE node_zfs_zil_zil_itx_metaslab_normal_bytes untyped
node_zfs_zil_zil_itx_metaslab_normal_bytes 1.0123412352e+10
# HELP node_zfs_zil_zil_itx_metaslab_slog_count kstat.zfs.misc.zil.zil_itx_metaslab_slog_count
# TYPE node_zfs_zil_zil_itx_metaslab_slog_count untyped
node_zfs_zil_zil_itx_metaslab_slog_count 0.0
# HELP node_zfs_zil_zil_itx_metaslab_slog_bytes kstat.zfs.misc.zil.zil_itx_metaslab_slog_bytes
# TYPE node_zfs_zil_zil_itx_metaslab_slog_bytes untyped
node_zfs_zil_zil_itx_metaslab_slog_bytes 0.0
# HELP node_zfs_zpool_dataset_writes kstat.zfs.misc.objset.writes
# TYPE node_zfs_zpool_dataset_writes untyped
node_zfs_zpool_dataset_writes{dataset="backup",zpool="backup"} 81234.0
node_zfs_zpool_dataset_writes{dataset="tank",zpool="tank"} 412341.0
node_zfs_zpool_dataset_writes{dataset="tank/home media",zpool="tank"} 2341.0
# HELP node_zfs_zpool_dataset_nwritten kstat.zfs.misc.objset.nwritten
# TYPE node_zfs_zpool_dataset_nwritten untyped
node_zfs_zpool_dataset_nwritten{dataset="backup",zpool="backup"} 1.0234123264e+10
node_zfs_zpool_dataset_nwritten{dataset="tank",zpool="tank"} 5.1234123776e+10
node_zfs_zpool_dataset_nwritten{dataset="tank/home media",zpool="tank"} 8.12341248e+08
# HELP node_zfs_zpool_dataset_reads kstat.zfs.misc.objset.reads
# TYPE node_zfs_zpool_dataset_reads untyped
node_zfs_zpool_dataset_reads{dataset="backup",zpool="backup"} 12.0
node_zfs_zpool_dataset_reads{dataset="tank",zpool="tank"} 91234.0
node_zfs_zpool_dataset_reads{dataset="tank/home media",zpool="tank"} 12341.0
# HELP node_zfs_zpool_dataset_nread kstat.zfs.misc.objset.nread
# TYPE node_zfs_zpool_dataset_nread untyped
node_zfs_zpool_dataset_nread{dataset="backup",zpool="backup"} 49152.0
node_zfs_zpool_dataset_nread{dataset="tank",zpool="tank"} 4.1234123776e+10
node_zfs_zpool_dataset_nread{dataset="tank/home media",zpool="tank"} 1.612341248e+09
# HELP node_zfs_zpool_dataset_nunlinks kstat.zfs.misc.objset.nunlinks
# TYPE node_zfs_zpool_dataset_nunlinks untyped
node_zfs_zpool_dataset_nunlinks{dataset="backup",zpool="backup"} 0.0
node_zfs_zpool_dataset_nunlinks{dataset="tank",zpool="tank"} 1234.0
node_zfs_zpool_dataset_nunlinks{dataset="tank/home media",zpool="tank"} 12.0
# HELP node_zfs_zpool_dataset_nunlinked kstat.zfs.misc.objset.nunlinked
# TYPE node_zfs_zpool_dataset_nunlinked untyped
node_zfs_zpool_dataset_nunlinked{dataset="backup",zpool="backup"} 0.0
node_zfs_zpool_dataset_nunlinked{dataset="tank",zpool="tank"} 1230.0
node_zfs_zpool_dataset_nunlinked{dataset="tank/home media",zpool="tank"} 12.0
# HELP node_zfs_zpool_state kstat.zfs.misc.state
# TYPE node_zfs_zpool_state gauge
node_zfs_zpool_state{state="online",zpool="backup"} 0.0
node_zfs_zpool_state{state="degraded",zpool="backup"} 1.0
node_zfs_zpool_state{state="faulted",zpool="backup"} 0.0
node_zfs_zpool_state{state="offline",zpool="backup"} 0.0
node_zfs_zpool_state{state="removed",zpool="backup"} 0.0
node_zfs_zpool_state{state="unavail",zpool="backup"} 0.0
node_zfs_zpool_state{state="suspended",zpool="backup"} 0.0
node_zfs_zpool_state{state="online",zpool="tank"} 1.0
node_zfs_zpool_state{state="degraded",zpool="tank"} 0.0
node_zfs_zpool_state{state="faulted",zpool="tank"} 0.0
node_zfs_zpool_state{state="offline",zpool="tank"} 0.0
node_zfs_zpool_state{state="removed",zpool="tank"} 0.0
node_zfs_zpool_state{state="unavail",zpool="tank"} 0.0
node_zfs_zpool_state{state="suspended",zpool="tank"} 0.0
"""  # noqa: E501

# OpenZFS 0.7: the per-pool io kstat, xuio and vdev_cache stats, no state or objsets.
EXPECTED_0_7 = """\
# HELP node_zfs_arc_hits kstat.zfs.misc.arcstats.hits
# TYPE node_zfs_arc_hits untyped
node_zfs_arc_hits 8.1234123e+07
# HELP node_zfs_arc_misses kstat.zfs.misc.arcstats.misses
# TYPE node_zfs_arc_misses untyped
node_zfs_arc_misses 412341.0
# HELP node_zfs_arc_size kstat.zfs.misc.arcstats.size
# TYPE node_zfs_arc_size untyped
node_zfs_arc_size 2.12341248e+09
# HELP node_zfs_arc_c_max kstat.zfs.misc.arcstats.c_max
# TYPE node_zfs_arc_c_max untyped
node_zfs_arc_c_max 4.12341248e+09
# HELP node_zfs_arc_arc_meta_used kstat.zfs.misc.arcstats.arc_meta_used
# TYPE node_zfs_arc_arc_meta_used untyped
node_zfs_arc_arc_meta_used 4.12341248e+08
# HELP node_zfs_vdev_cache_delegations kstat.zfs.misc.vdev_cache_stats.delegations
# TYPE node_zfs_vdev_cache_delegations untyped
node_zfs_vdev_cache_delegations 0.0
# HELP node_zfs_vdev_cache_hits kstat.zfs.misc.vdev_cache_stats.hits
# TYPE node_zfs_vdev_cache_hits untyped
node_zfs_vdev_cache_hits 0.0
# HELP node_zfs_vdev_cache_misses kstat.zfs.misc.vdev_cache_stats.misses
# TYPE node_zfs_vdev_cache_misses untyped
node_zfs_vdev_cache_misses 0.0
# HELP node_zfs_xuio_onloan_read_buf kstat.zfs.misc.xuio_stats.onloan_read_buf
# TYPE node_zfs_xuio_onloan_read_buf untyped
node_zfs_xuio_onloan_read_buf 0.0
# HELP node_zfs_xuio_onloan_write_buf kstat.zfs.misc.xuio_stats.onloan_write_buf
# TYPE node_zfs_xuio_onloan_write_buf untyped
node_zfs_xuio_onloan_write_buf 0.0
# HELP node_zfs_xuio_read_buf_copied kstat.zfs.misc.xuio_stats.read_buf_copied
# TYPE node_zfs_xuio_read_buf_copied untyped
node_zfs_xuio_read_buf_copied 0.0
# HELP node_zfs_xuio_read_buf_nocopy kstat.zfs.misc.xuio_stats.read_buf_nocopy
# TYPE node_zfs_xuio_read_buf_nocopy untyped
node_zfs_xuio_read_buf_nocopy 0.0
# HELP node_zfs_xuio_write_buf_copied kstat.zfs.misc.xuio_stats.write_buf_copied
# TYPE node_zfs_xuio_write_buf_copied untyped
node_zfs_xuio_write_buf_copied 0.0
# HELP node_zfs_xuio_write_buf_nocopy kstat.zfs.misc.xuio_stats.write_buf_nocopy
# TYPE node_zfs_xuio_write_buf_nocopy untyped
node_zfs_xuio_write_buf_nocopy 12341.0
# HELP node_zfs_zpool_nread kstat.zfs.misc.io.nread
# TYPE node_zfs_zpool_nread untyped
node_zfs_zpool_nread{zpool="pool1"} 1.88416e+06
# HELP node_zfs_zpool_nwritten kstat.zfs.misc.io.nwritten
# TYPE node_zfs_zpool_nwritten untyped
node_zfs_zpool_nwritten{zpool="pool1"} 6.1997056e+07
# HELP node_zfs_zpool_reads kstat.zfs.misc.io.reads
# TYPE node_zfs_zpool_reads untyped
node_zfs_zpool_reads{zpool="pool1"} 22.0
# HELP node_zfs_zpool_writes kstat.zfs.misc.io.writes
# TYPE node_zfs_zpool_writes untyped
node_zfs_zpool_writes{zpool="pool1"} 3946.0
# HELP node_zfs_zpool_wtime kstat.zfs.misc.io.wtime
# TYPE node_zfs_zpool_wtime untyped
node_zfs_zpool_wtime{zpool="pool1"} 2.6342781e+07
# HELP node_zfs_zpool_wlentime kstat.zfs.misc.io.wlentime
# TYPE node_zfs_zpool_wlentime untyped
node_zfs_zpool_wlentime{zpool="pool1"} 1.272929716e+09
# HELP node_zfs_zpool_wupdate kstat.zfs.misc.io.wupdate
# TYPE node_zfs_zpool_wupdate untyped
node_zfs_zpool_wupdate{zpool="pool1"} 1.88222344396e+11
# HELP node_zfs_zpool_rtime kstat.zfs.misc.io.rtime
# TYPE node_zfs_zpool_rtime untyped
node_zfs_zpool_rtime{zpool="pool1"} 9.7923831e+07
# HELP node_zfs_zpool_rlentime kstat.zfs.misc.io.rlentime
# TYPE node_zfs_zpool_rlentime untyped
node_zfs_zpool_rlentime{zpool="pool1"} 1.272929716e+09
# HELP node_zfs_zpool_rupdate kstat.zfs.misc.io.rupdate
# TYPE node_zfs_zpool_rupdate untyped
node_zfs_zpool_rupdate{zpool="pool1"} 1.88222347114e+11
# HELP node_zfs_zpool_wcnt kstat.zfs.misc.io.wcnt
# TYPE node_zfs_zpool_wcnt untyped
node_zfs_zpool_wcnt{zpool="pool1"} 0.0
# HELP node_zfs_zpool_rcnt kstat.zfs.misc.io.rcnt
# TYPE node_zfs_zpool_rcnt untyped
node_zfs_zpool_rcnt{zpool="pool1"} 0.0
"""


def test_openzfs_2_1_output_is_exact() -> None:
    assert exposition(ZfsCollector(CollectorContext(paths=FIXTURE_PATHS))) == EXPECTED_2_1


def test_openzfs_0_7_output_is_exact() -> None:
    assert exposition(ZfsCollector(CollectorContext(paths=ZFS_07))) == EXPECTED_0_7


def test_no_zfs_module_is_unavailable(tmp_path: Path) -> None:
    paths = HostPaths(procfs=tmp_path, sysfs=tmp_path, rootfs=tmp_path)
    with pytest.raises(CollectorUnavailable):
        list(ZfsCollector(CollectorContext(paths=paths)).collect())
