"""Network collectors (netstat, sockstat, softnet, conntrack, arp, udp_queues): exact
output against the fixture /proc tree, older kernels' formats, missing files, settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, HostPaths
from exporter.collectors.arp import ArpConfig
from exporter.collectors.netstat import NetstatConfig
from exporter.discovery import available
from servicekit.loader import Loader
from servicekit.problems import ConfigError
from tests.conftest import FIXTURES
from tests.metrics import value
from tests.registry import exposition, samples

FIXTURE_PATHS = HostPaths(
    procfs=FIXTURES / "proc", sysfs=FIXTURES / "sys", rootfs=FIXTURES / "rootfs"
)


def build(name: str, paths: HostPaths = FIXTURE_PATHS, config: Any = None) -> Collector:
    return available()[name](CollectorContext(paths=paths, config=config))


def proc_with(tmp_path: Path, files: dict[str, str]) -> HostPaths:
    """A procfs holding only `files` (path under /proc → contents)."""
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return HostPaths(procfs=tmp_path, sysfs=tmp_path, rootfs=tmp_path)


# Exact expected exposition against tests/fixtures/proc (Linux 6.x formats).
EXPECTED = {
    "arp": """\
# HELP node_arp_entries ARP entries by device
# TYPE node_arp_entries gauge
node_arp_entries{device="eth0"} 3.0
node_arp_entries{device="br-lan"} 1.0
""",
    "conntrack": """\
# HELP node_nf_conntrack_entries Number of currently allocated flow entries for connection tracking.
# TYPE node_nf_conntrack_entries gauge
node_nf_conntrack_entries 1527.0
# HELP node_nf_conntrack_entries_limit Maximum size of connection tracking table.
# TYPE node_nf_conntrack_entries_limit gauge
node_nf_conntrack_entries_limit 262144.0
# HELP node_nf_conntrack_stat_found Number of searched entries which were successful.
# TYPE node_nf_conntrack_stat_found gauge
node_nf_conntrack_stat_found 37.0
# HELP node_nf_conntrack_stat_invalid Number of packets seen which can not be tracked.
# TYPE node_nf_conntrack_stat_invalid gauge
node_nf_conntrack_stat_invalid 144.0
# HELP node_nf_conntrack_stat_ignore Number of packets seen which are already connected to a conntrack entry.
# TYPE node_nf_conntrack_stat_ignore gauge
node_nf_conntrack_stat_ignore 540418.0
# HELP node_nf_conntrack_stat_insert Number of entries inserted into the list.
# TYPE node_nf_conntrack_stat_insert gauge
node_nf_conntrack_stat_insert 0.0
# HELP node_nf_conntrack_stat_insert_failed Number of entries for which list insertion was attempted but failed.
# TYPE node_nf_conntrack_stat_insert_failed gauge
node_nf_conntrack_stat_insert_failed 1.0
# HELP node_nf_conntrack_stat_drop Number of packets dropped due to conntrack failure.
# TYPE node_nf_conntrack_stat_drop gauge
node_nf_conntrack_stat_drop 0.0
# HELP node_nf_conntrack_stat_early_drop Number of dropped conntrack entries to make room for new ones, if maximum table size was reached.
# TYPE node_nf_conntrack_stat_early_drop gauge
node_nf_conntrack_stat_early_drop 0.0
# HELP node_nf_conntrack_stat_search_restart Number of conntrack table lookups which had to be restarted due to hashtable resizes.
# TYPE node_nf_conntrack_stat_search_restart gauge
node_nf_conntrack_stat_search_restart 16.0
""",  # noqa: E501
    "netstat": """\
# HELP node_netstat_TcpExt_SyncookiesSent Statistic TcpExtSyncookiesSent.
# TYPE node_netstat_TcpExt_SyncookiesSent untyped
node_netstat_TcpExt_SyncookiesSent 0.0
# HELP node_netstat_TcpExt_SyncookiesRecv Statistic TcpExtSyncookiesRecv.
# TYPE node_netstat_TcpExt_SyncookiesRecv untyped
node_netstat_TcpExt_SyncookiesRecv 0.0
# HELP node_netstat_TcpExt_SyncookiesFailed Statistic TcpExtSyncookiesFailed.
# TYPE node_netstat_TcpExt_SyncookiesFailed untyped
node_netstat_TcpExt_SyncookiesFailed 0.0
# HELP node_netstat_TcpExt_ListenOverflows Statistic TcpExtListenOverflows.
# TYPE node_netstat_TcpExt_ListenOverflows untyped
node_netstat_TcpExt_ListenOverflows 0.0
# HELP node_netstat_TcpExt_ListenDrops Statistic TcpExtListenDrops.
# TYPE node_netstat_TcpExt_ListenDrops untyped
node_netstat_TcpExt_ListenDrops 0.0
# HELP node_netstat_TcpExt_TCPTimeouts Statistic TcpExtTCPTimeouts.
# TYPE node_netstat_TcpExt_TCPTimeouts untyped
node_netstat_TcpExt_TCPTimeouts 3.0
# HELP node_netstat_TcpExt_TCPOFOQueue Statistic TcpExtTCPOFOQueue.
# TYPE node_netstat_TcpExt_TCPOFOQueue untyped
node_netstat_TcpExt_TCPOFOQueue 376.0
# HELP node_netstat_TcpExt_TCPSynRetrans Statistic TcpExtTCPSynRetrans.
# TYPE node_netstat_TcpExt_TCPSynRetrans untyped
node_netstat_TcpExt_TCPSynRetrans 0.0
# HELP node_netstat_TcpExt_TCPRcvQDrop Statistic TcpExtTCPRcvQDrop.
# TYPE node_netstat_TcpExt_TCPRcvQDrop untyped
node_netstat_TcpExt_TCPRcvQDrop 0.0
# HELP node_netstat_IpExt_InOctets Statistic IpExtInOctets.
# TYPE node_netstat_IpExt_InOctets untyped
node_netstat_IpExt_InOctets 2.3537972424e+10
# HELP node_netstat_IpExt_OutOctets Statistic IpExtOutOctets.
# TYPE node_netstat_IpExt_OutOctets untyped
node_netstat_IpExt_OutOctets 2.0589028429e+10
# HELP node_netstat_Ip_Forwarding Statistic IpForwarding.
# TYPE node_netstat_Ip_Forwarding untyped
node_netstat_Ip_Forwarding 2.0
# HELP node_netstat_Icmp_InMsgs Statistic IcmpInMsgs.
# TYPE node_netstat_Icmp_InMsgs untyped
node_netstat_Icmp_InMsgs 2.0
# HELP node_netstat_Icmp_InErrors Statistic IcmpInErrors.
# TYPE node_netstat_Icmp_InErrors untyped
node_netstat_Icmp_InErrors 0.0
# HELP node_netstat_Icmp_OutMsgs Statistic IcmpOutMsgs.
# TYPE node_netstat_Icmp_OutMsgs untyped
node_netstat_Icmp_OutMsgs 0.0
# HELP node_netstat_Tcp_ActiveOpens Statistic TcpActiveOpens.
# TYPE node_netstat_Tcp_ActiveOpens untyped
node_netstat_Tcp_ActiveOpens 922163.0
# HELP node_netstat_Tcp_PassiveOpens Statistic TcpPassiveOpens.
# TYPE node_netstat_Tcp_PassiveOpens untyped
node_netstat_Tcp_PassiveOpens 56667.0
# HELP node_netstat_Tcp_CurrEstab Statistic TcpCurrEstab.
# TYPE node_netstat_Tcp_CurrEstab untyped
node_netstat_Tcp_CurrEstab 4.0
# HELP node_netstat_Tcp_InSegs Statistic TcpInSegs.
# TYPE node_netstat_Tcp_InSegs untyped
node_netstat_Tcp_InSegs 6.476168e+06
# HELP node_netstat_Tcp_OutSegs Statistic TcpOutSegs.
# TYPE node_netstat_Tcp_OutSegs untyped
node_netstat_Tcp_OutSegs 6.43997e+06
# HELP node_netstat_Tcp_RetransSegs Statistic TcpRetransSegs.
# TYPE node_netstat_Tcp_RetransSegs untyped
node_netstat_Tcp_RetransSegs 1012.0
# HELP node_netstat_Tcp_InErrs Statistic TcpInErrs.
# TYPE node_netstat_Tcp_InErrs untyped
node_netstat_Tcp_InErrs 0.0
# HELP node_netstat_Tcp_OutRsts Statistic TcpOutRsts.
# TYPE node_netstat_Tcp_OutRsts untyped
node_netstat_Tcp_OutRsts 867680.0
# HELP node_netstat_Udp_InDatagrams Statistic UdpInDatagrams.
# TYPE node_netstat_Udp_InDatagrams untyped
node_netstat_Udp_InDatagrams 11494.0
# HELP node_netstat_Udp_NoPorts Statistic UdpNoPorts.
# TYPE node_netstat_Udp_NoPorts untyped
node_netstat_Udp_NoPorts 0.0
# HELP node_netstat_Udp_InErrors Statistic UdpInErrors.
# TYPE node_netstat_Udp_InErrors untyped
node_netstat_Udp_InErrors 0.0
# HELP node_netstat_Udp_OutDatagrams Statistic UdpOutDatagrams.
# TYPE node_netstat_Udp_OutDatagrams untyped
node_netstat_Udp_OutDatagrams 11599.0
# HELP node_netstat_Udp_RcvbufErrors Statistic UdpRcvbufErrors.
# TYPE node_netstat_Udp_RcvbufErrors untyped
node_netstat_Udp_RcvbufErrors 0.0
# HELP node_netstat_Udp_SndbufErrors Statistic UdpSndbufErrors.
# TYPE node_netstat_Udp_SndbufErrors untyped
node_netstat_Udp_SndbufErrors 0.0
# HELP node_netstat_UdpLite_InErrors Statistic UdpLiteInErrors.
# TYPE node_netstat_UdpLite_InErrors untyped
node_netstat_UdpLite_InErrors 0.0
# HELP node_netstat_Ip6_InOctets Statistic Ip6InOctets.
# TYPE node_netstat_Ip6_InOctets untyped
node_netstat_Ip6_InOctets 21676.0
# HELP node_netstat_Ip6_OutOctets Statistic Ip6OutOctets.
# TYPE node_netstat_Ip6_OutOctets untyped
node_netstat_Ip6_OutOctets 23732.0
# HELP node_netstat_Icmp6_InMsgs Statistic Icmp6InMsgs.
# TYPE node_netstat_Icmp6_InMsgs untyped
node_netstat_Icmp6_InMsgs 2.0
# HELP node_netstat_Icmp6_InErrors Statistic Icmp6InErrors.
# TYPE node_netstat_Icmp6_InErrors untyped
node_netstat_Icmp6_InErrors 1.0
# HELP node_netstat_Icmp6_OutMsgs Statistic Icmp6OutMsgs.
# TYPE node_netstat_Icmp6_OutMsgs untyped
node_netstat_Icmp6_OutMsgs 27.0
# HELP node_netstat_Udp6_InDatagrams Statistic Udp6InDatagrams.
# TYPE node_netstat_Udp6_InDatagrams untyped
node_netstat_Udp6_InDatagrams 0.0
# HELP node_netstat_Udp6_NoPorts Statistic Udp6NoPorts.
# TYPE node_netstat_Udp6_NoPorts untyped
node_netstat_Udp6_NoPorts 0.0
# HELP node_netstat_Udp6_InErrors Statistic Udp6InErrors.
# TYPE node_netstat_Udp6_InErrors untyped
node_netstat_Udp6_InErrors 0.0
# HELP node_netstat_Udp6_OutDatagrams Statistic Udp6OutDatagrams.
# TYPE node_netstat_Udp6_OutDatagrams untyped
node_netstat_Udp6_OutDatagrams 0.0
# HELP node_netstat_Udp6_RcvbufErrors Statistic Udp6RcvbufErrors.
# TYPE node_netstat_Udp6_RcvbufErrors untyped
node_netstat_Udp6_RcvbufErrors 0.0
# HELP node_netstat_Udp6_SndbufErrors Statistic Udp6SndbufErrors.
# TYPE node_netstat_Udp6_SndbufErrors untyped
node_netstat_Udp6_SndbufErrors 0.0
# HELP node_netstat_UdpLite6_InErrors Statistic UdpLite6InErrors.
# TYPE node_netstat_UdpLite6_InErrors untyped
node_netstat_UdpLite6_InErrors 0.0
""",
    "sockstat": """\
# HELP node_sockstat_sockets_used Number of IPv4 sockets in use.
# TYPE node_sockstat_sockets_used gauge
node_sockstat_sockets_used 229.0
# HELP node_sockstat_TCP_inuse Number of TCP sockets in state inuse.
# TYPE node_sockstat_TCP_inuse gauge
node_sockstat_TCP_inuse 17.0
# HELP node_sockstat_TCP_orphan Number of TCP sockets in state orphan.
# TYPE node_sockstat_TCP_orphan gauge
node_sockstat_TCP_orphan 1.0
# HELP node_sockstat_TCP_tw Number of TCP sockets in state tw.
# TYPE node_sockstat_TCP_tw gauge
node_sockstat_TCP_tw 230.0
# HELP node_sockstat_TCP_alloc Number of TCP sockets in state alloc.
# TYPE node_sockstat_TCP_alloc gauge
node_sockstat_TCP_alloc 21.0
# HELP node_sockstat_TCP_mem Number of TCP sockets in state mem.
# TYPE node_sockstat_TCP_mem gauge
node_sockstat_TCP_mem 259.0
# HELP node_sockstat_TCP_mem_bytes Number of TCP sockets in state mem_bytes.
# TYPE node_sockstat_TCP_mem_bytes gauge
node_sockstat_TCP_mem_bytes 1.060864e+06
# HELP node_sockstat_UDP_inuse Number of UDP sockets in state inuse.
# TYPE node_sockstat_UDP_inuse gauge
node_sockstat_UDP_inuse 4.0
# HELP node_sockstat_UDP_mem Number of UDP sockets in state mem.
# TYPE node_sockstat_UDP_mem gauge
node_sockstat_UDP_mem 2.0
# HELP node_sockstat_UDP_mem_bytes Number of UDP sockets in state mem_bytes.
# TYPE node_sockstat_UDP_mem_bytes gauge
node_sockstat_UDP_mem_bytes 8192.0
# HELP node_sockstat_UDPLITE_inuse Number of UDPLITE sockets in state inuse.
# TYPE node_sockstat_UDPLITE_inuse gauge
node_sockstat_UDPLITE_inuse 0.0
# HELP node_sockstat_RAW_inuse Number of RAW sockets in state inuse.
# TYPE node_sockstat_RAW_inuse gauge
node_sockstat_RAW_inuse 1.0
# HELP node_sockstat_FRAG_inuse Number of FRAG sockets in state inuse.
# TYPE node_sockstat_FRAG_inuse gauge
node_sockstat_FRAG_inuse 0.0
# HELP node_sockstat_FRAG_memory Number of FRAG sockets in state memory.
# TYPE node_sockstat_FRAG_memory gauge
node_sockstat_FRAG_memory 0.0
# HELP node_sockstat_TCP6_inuse Number of TCP6 sockets in state inuse.
# TYPE node_sockstat_TCP6_inuse gauge
node_sockstat_TCP6_inuse 3.0
# HELP node_sockstat_UDP6_inuse Number of UDP6 sockets in state inuse.
# TYPE node_sockstat_UDP6_inuse gauge
node_sockstat_UDP6_inuse 2.0
# HELP node_sockstat_UDPLITE6_inuse Number of UDPLITE6 sockets in state inuse.
# TYPE node_sockstat_UDPLITE6_inuse gauge
node_sockstat_UDPLITE6_inuse 0.0
# HELP node_sockstat_RAW6_inuse Number of RAW6 sockets in state inuse.
# TYPE node_sockstat_RAW6_inuse gauge
node_sockstat_RAW6_inuse 1.0
# HELP node_sockstat_FRAG6_inuse Number of FRAG6 sockets in state inuse.
# TYPE node_sockstat_FRAG6_inuse gauge
node_sockstat_FRAG6_inuse 0.0
# HELP node_sockstat_FRAG6_memory Number of FRAG6 sockets in state memory.
# TYPE node_sockstat_FRAG6_memory gauge
node_sockstat_FRAG6_memory 0.0
""",
    "softnet": """\
# HELP node_softnet_processed_total Number of processed packets
# TYPE node_softnet_processed_total counter
node_softnet_processed_total{cpu="0"} 3.178112e+06
node_softnet_processed_total{cpu="1"} 3.22248e+06
# HELP node_softnet_dropped_total Number of dropped packets
# TYPE node_softnet_dropped_total counter
node_softnet_dropped_total{cpu="0"} 0.0
node_softnet_dropped_total{cpu="1"} 3.0
# HELP node_softnet_times_squeezed_total Number of times processing packets ran out of quota
# TYPE node_softnet_times_squeezed_total counter
node_softnet_times_squeezed_total{cpu="0"} 5.0
node_softnet_times_squeezed_total{cpu="1"} 2.0
# HELP node_softnet_cpu_collision_total Number of collision occur while obtaining device lock while transmitting
# TYPE node_softnet_cpu_collision_total counter
node_softnet_cpu_collision_total{cpu="0"} 0.0
node_softnet_cpu_collision_total{cpu="1"} 0.0
# HELP node_softnet_received_rps_total Number of times cpu woken up received_rps
# TYPE node_softnet_received_rps_total counter
node_softnet_received_rps_total{cpu="0"} 0.0
node_softnet_received_rps_total{cpu="1"} 7.0
# HELP node_softnet_flow_limit_count_total Number of times flow limit has been reached
# TYPE node_softnet_flow_limit_count_total counter
node_softnet_flow_limit_count_total{cpu="0"} 0.0
node_softnet_flow_limit_count_total{cpu="1"} 0.0
# HELP node_softnet_backlog_len Softnet backlog status
# TYPE node_softnet_backlog_len gauge
node_softnet_backlog_len{cpu="0"} 0.0
node_softnet_backlog_len{cpu="1"} 1.0
""",  # noqa: E501
    "udp_queues": """\
# HELP node_udp_queues Number of allocated memory in the kernel for UDP datagrams in bytes.
# TYPE node_udp_queues gauge
node_udp_queues{ip="v4",queue="tx"} 832.0
node_udp_queues{ip="v4",queue="rx"} 2560.0
node_udp_queues{ip="v6",queue="tx"} 0.0
node_udp_queues{ip="v6",queue="rx"} 512.0
""",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_output_is_exact(name: str) -> None:
    assert exposition(build(name)) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_on_by_default_and_unavailable_without_its_files(name: str, tmp_path: Path) -> None:
    assert available()[name].default_enabled
    with pytest.raises(CollectorUnavailable):
        exposition(build(name, paths=HostPaths(procfs=tmp_path, sysfs=tmp_path)))


# --- softnet: columns added by later kernels ----------------------------------------------

# Linux 4.18 - 5.13: 11 columns, no backlog length or CPU index (the CPU is the line number).
SOFTNET_4_19 = (
    "0001a3f2 00000000 00000004 00000000 00000000 00000000 00000000 00000000 00000000"
    " 00000000 00000000\n"
    "00019e21 00000002 00000000 00000000 00000000 00000000 00000000 00000000 00000001"
    " 00000000 00000003\n"
)
# Linux 2.6.39 - 4.17: 10 columns (no flow_limit_count).
SOFTNET_3_10 = (
    "0000b1c4 00000000 00000001 00000000 00000000 00000000 00000000 00000000 00000000 00000005\n"
)


def test_softnet_on_older_kernels(tmp_path: Path) -> None:
    old = samples(build("softnet", proc_with(tmp_path, {"net/softnet_stat": SOFTNET_4_19})))
    assert value(old, "node_softnet_processed_total", cpu="1") == 0x19E21
    assert value(old, "node_softnet_dropped_total", cpu="1") == 2
    assert value(old, "node_softnet_cpu_collision_total", cpu="1") == 1
    assert value(old, "node_softnet_flow_limit_count_total", cpu="1") == 3
    assert value(old, "node_softnet_backlog_len", cpu="1") == 0
    older = samples(build("softnet", proc_with(tmp_path, {"net/softnet_stat": SOFTNET_3_10})))
    assert value(older, "node_softnet_received_rps_total", cpu="0") == 5
    assert value(older, "node_softnet_flow_limit_count_total", cpu="0") == 0


def test_softnet_rejects_a_short_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="columns"):
        exposition(build("softnet", proc_with(tmp_path, {"net/softnet_stat": "0001 0002\n"})))


# --- conntrack -----------------------------------------------------------------------------

# Linux 4.x names column 1 `searched` and column 7 `delete_list`; the positions are the same.
CONNTRACK_4_19 = (
    "entries  searched found new invalid ignore delete delete_list insert insert_failed drop"
    " early_drop icmp_error  expect_new expect_create expect_delete search_restart\n"
    "00000021  00000000 00000000 00000000 00000002 0000016a 00000000 00000000 00000000"
    " 00000000 00000000 00000000 00000000  00000000 00000000 00000000 00000001\n"
)
# Before Linux 2.6.35 there is no search_restart column.
CONNTRACK_2_6_32 = (
    "entries  searched found new invalid ignore delete delete_list insert insert_failed drop"
    " early_drop icmp_error  expect_new expect_create expect_delete\n"
    "00000021  00000010 00000007 00000000 00000002 0000016a 00000000 00000000 00000005"
    " 00000000 00000000 00000000 00000000  00000000 00000000 00000000\n"
)


@pytest.mark.parametrize(
    ("stat", "ignore", "restart", "found"),
    [(CONNTRACK_4_19, 0x16A, 1, 0), (CONNTRACK_2_6_32, 0x16A, 0, 7)],
)
def test_conntrack_older_kernels(
    tmp_path: Path, stat: str, ignore: int, restart: int, found: int
) -> None:
    paths = proc_with(
        tmp_path,
        {
            "sys/net/netfilter/nf_conntrack_count": "33\n",
            "sys/net/netfilter/nf_conntrack_max": "65536\n",
            "net/stat/nf_conntrack": stat,
        },
    )
    got = samples(build("conntrack", paths))
    assert value(got, "node_nf_conntrack_entries") == 33
    assert value(got, "node_nf_conntrack_entries_limit") == 65536
    assert value(got, "node_nf_conntrack_stat_ignore") == ignore
    assert value(got, "node_nf_conntrack_stat_search_restart") == restart
    assert value(got, "node_nf_conntrack_stat_found") == found


def test_conntrack_without_procfs_statistics(tmp_path: Path) -> None:
    # CONFIG_NF_CONNTRACK_PROCFS off: no /proc/net/stat/nf_conntrack; the sizes remain.
    paths = proc_with(
        tmp_path,
        {
            "sys/net/netfilter/nf_conntrack_count": "12\n",
            "sys/net/netfilter/nf_conntrack_max": "65536\n",
        },
    )
    assert samples(build("conntrack", paths)) == {
        ("node_nf_conntrack_entries", ()): 12.0,
        ("node_nf_conntrack_entries_limit", ()): 65536.0,
    }


def test_conntrack_unavailable_without_the_module(tmp_path: Path) -> None:
    # nf_conntrack not loaded: no /proc/sys/net/netfilter/nf_conntrack_* at all.
    paths = proc_with(tmp_path, {"sys/net/ipv4/ip_forward": "1\n"})
    with pytest.raises(CollectorUnavailable):
        exposition(build("conntrack", paths))


# --- sockstat, udp_queues: the IPv6 file may be absent --------------------------------------


def test_sockstat_without_ipv6(tmp_path: Path) -> None:
    paths = proc_with(tmp_path, {"net/sockstat": (FIXTURES / "proc/net/sockstat").read_text()})
    got = samples(build("sockstat", paths))
    assert value(got, "node_sockstat_TCP_tw") == 230
    assert not [name for name, _ in got if "6_" in name]


def test_sockstat_mem_bytes_is_pages_times_page_size() -> None:
    got = samples(build("sockstat"))
    assert value(got, "node_sockstat_TCP_mem_bytes") == 259 * os.sysconf("SC_PAGE_SIZE")


def test_udp_queues_without_ipv6(tmp_path: Path) -> None:
    paths = proc_with(tmp_path, {"net/udp": (FIXTURES / "proc/net/udp").read_text()})
    got = samples(build("udp_queues", paths))
    assert sorted(dict(labels)["ip"] for _, labels in got) == ["v4", "v4"]


# --- netstat -------------------------------------------------------------------------------


def test_netstat_without_snmp6(tmp_path: Path) -> None:
    # IPv6 disabled: no /proc/net/snmp6; the IPv4 counters are still reported.
    files = {f"net/{n}": (FIXTURES / "proc/net" / n).read_text() for n in ("netstat", "snmp")}
    got = samples(build("netstat", proc_with(tmp_path, files)))
    assert value(got, "node_netstat_Tcp_CurrEstab") == 4
    assert value(got, "node_netstat_Ip6_InOctets") is None


# An older kernel's files (4.19): fewer columns, no TCPRcvQDrop yet.
NETSTAT_4_19 = (
    "TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed ListenOverflows ListenDrops"
    " TCPTimeouts TCPOFOQueue TCPSynRetrans\n"
    "TcpExt: 0 0 0 12 12 41 1873 9\n"
    "IpExt: InNoRoutes InOctets OutOctets\n"
    "IpExt: 0 918273645 712345678\n"
)
SNMP_4_19 = (
    "Ip: Forwarding DefaultTTL InReceives InHdrErrors\nIp: 1 64 734412 0\n"
    "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails"
    " EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n"
    "Tcp: 1 200 120000 -1 5120 311 27 19 7 712301 698877 233 0 1210 0\n"
)


def test_netstat_older_kernel_and_a_changed_field_set(tmp_path: Path) -> None:
    collector = build(
        "netstat", proc_with(tmp_path, {"net/netstat": NETSTAT_4_19, "net/snmp": SNMP_4_19})
    )
    got = samples(collector)
    assert value(got, "node_netstat_TcpExt_ListenDrops") == 12
    assert value(got, "node_netstat_TcpExt_TCPRcvQDrop") is None
    assert value(got, "node_netstat_Tcp_CurrEstab") == 7
    assert value(got, "node_netstat_Ip_Forwarding") == 1
    assert value(got, "node_netstat_IpExt_InOctets") == 918273645
    # Same collector, a kernel with more fields (after a live update of the files).
    (tmp_path / "net/netstat").write_text((FIXTURES / "proc/net/netstat").read_text())
    assert value(samples(collector), "node_netstat_TcpExt_TCPRcvQDrop") == 0


def test_netstat_fields_setting() -> None:
    loader = Loader("exporter.yml")
    config = loader.load(NetstatConfig, {"fields": "^Tcp_.*"}, "collectors.netstat")
    got = samples(build("netstat", config=config))
    names = {name for name, _ in got}
    assert "node_netstat_Tcp_RtoMax" in names
    assert all(name.startswith("node_netstat_Tcp_") for name in names)


def test_netstat_rejects_mismatched_line_pair(tmp_path: Path) -> None:
    paths = proc_with(
        tmp_path,
        {"net/netstat": "TcpExt: SyncookiesSent SyncookiesRecv\nTcpExt: 0\n", "net/snmp": ""},
    )
    with pytest.raises(ValueError, match="mismatch"):
        exposition(build("netstat", paths))


# --- arp -----------------------------------------------------------------------------------


def test_arp_device_filter() -> None:
    loader = Loader("exporter.yml")
    config = loader.load(ArpConfig, {"device_exclude": "^br-"}, "collectors.arp")
    got = samples(build("arp", config=config))
    assert got == {("node_arp_entries", (("device", "eth0"),)): 3.0}
    config = loader.load(ArpConfig, {"device_include": "^br-"}, "collectors.arp")
    got = samples(build("arp", config=config))
    assert got == {("node_arp_entries", (("device", "br-lan"),)): 1.0}


def test_bad_patterns_name_their_keys() -> None:
    loader = Loader("exporter.yml")
    loader.load(NetstatConfig, {"fields": "("}, "collectors.netstat")
    loader.load(ArpConfig, {"device_exclude": "["}, "collectors.arp")
    with pytest.raises(ConfigError) as err:
        raise ConfigError(loader.problems)
    assert "collectors.netstat.fields" in str(err.value)
    assert "collectors.arp.device_exclude" in str(err.value)


# --- live host -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_live_host(name: str) -> None:
    if not Path("/proc/net/dev").exists():
        pytest.skip("not a Linux host")
    try:
        text = exposition(build(name, paths=HostPaths()))
    except CollectorUnavailable:
        assert name == "conntrack", "only conntrack may lack its files on a Linux host"
        return
    assert text.strip(), name
