"""ipvs: exact output against fixture /proc/net/ip_vs{,_stats} (IPv4, IPv6, firewall mark)."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.collector import CollectorContext, CollectorUnavailable, HostPaths
from exporter.collectors.ipvs import IpvsCollector, IpvsConfig, parse_address
from exporter.config import load_config
from exporter.discovery import available
from servicekit.problems import ConfigError
from tests.conftest import FIXTURES
from tests.registry import exposition, samples

FIXTURE_PATHS = HostPaths(procfs=FIXTURES / "proc")

EXPECTED = """\
# HELP node_ipvs_connections_total The total number of connections made.
# TYPE node_ipvs_connections_total counter
node_ipvs_connections_total 2.890303e+06
# HELP node_ipvs_incoming_packets_total The total number of incoming packets.
# TYPE node_ipvs_incoming_packets_total counter
node_ipvs_incoming_packets_total 5.27117322e+08
# HELP node_ipvs_outgoing_packets_total The total number of outgoing packets.
# TYPE node_ipvs_outgoing_packets_total counter
node_ipvs_outgoing_packets_total 0.0
# HELP node_ipvs_incoming_bytes_total The total amount of incoming data.
# TYPE node_ipvs_incoming_bytes_total counter
node_ipvs_incoming_bytes_total 1.1679046943243e+13
# HELP node_ipvs_outgoing_bytes_total The total amount of outgoing data.
# TYPE node_ipvs_outgoing_bytes_total counter
node_ipvs_outgoing_bytes_total 0.0
# HELP node_ipvs_backend_connections_active The current active connections by local and remote address.
# TYPE node_ipvs_backend_connections_active gauge
node_ipvs_backend_connections_active{local_address="10.0.10.10",local_mark="",local_port="443",proto="TCP",remote_address="192.168.1.21",remote_port="443"} 412.0
node_ipvs_backend_connections_active{local_address="10.0.10.10",local_mark="",local_port="443",proto="TCP",remote_address="192.168.1.22",remote_port="443"} 398.0
node_ipvs_backend_connections_active{local_address="10.0.10.10",local_mark="",local_port="443",proto="TCP",remote_address="192.168.1.23",remote_port="443"} 3.0
node_ipvs_backend_connections_active{local_address="10.0.10.11",local_mark="",local_port="53",proto="UDP",remote_address="192.168.1.32",remote_port="53"} 0.0
node_ipvs_backend_connections_active{local_address="10.0.10.11",local_mark="",local_port="53",proto="UDP",remote_address="192.168.1.33",remote_port="53"} 0.0
node_ipvs_backend_connections_active{local_address="2001:db8::80",local_mark="",local_port="80",proto="TCP",remote_address="2001:db8::1:1",remote_port="80"} 17.0
node_ipvs_backend_connections_active{local_address="",local_mark="00000003",local_port="0",proto="FWM",remote_address="192.168.1.21",remote_port="0"} 22.0
node_ipvs_backend_connections_active{local_address="",local_mark="00000003",local_port="0",proto="FWM",remote_address="192.168.1.22",remote_port="0"} 19.0
# HELP node_ipvs_backend_connections_inactive The current inactive connections by local and remote address.
# TYPE node_ipvs_backend_connections_inactive gauge
node_ipvs_backend_connections_inactive{local_address="10.0.10.10",local_mark="",local_port="443",proto="TCP",remote_address="192.168.1.21",remote_port="443"} 1203.0
node_ipvs_backend_connections_inactive{local_address="10.0.10.10",local_mark="",local_port="443",proto="TCP",remote_address="192.168.1.22",remote_port="443"} 1187.0
node_ipvs_backend_connections_inactive{local_address="10.0.10.10",local_mark="",local_port="443",proto="TCP",remote_address="192.168.1.23",remote_port="443"} 44.0
node_ipvs_backend_connections_inactive{local_address="10.0.10.11",local_mark="",local_port="53",proto="UDP",remote_address="192.168.1.32",remote_port="53"} 12.0
node_ipvs_backend_connections_inactive{local_address="10.0.10.11",local_mark="",local_port="53",proto="UDP",remote_address="192.168.1.33",remote_port="53"} 9.0
node_ipvs_backend_connections_inactive{local_address="2001:db8::80",local_mark="",local_port="80",proto="TCP",remote_address="2001:db8::1:1",remote_port="80"} 80.0
node_ipvs_backend_connections_inactive{local_address="",local_mark="00000003",local_port="0",proto="FWM",remote_address="192.168.1.21",remote_port="0"} 61.0
node_ipvs_backend_connections_inactive{local_address="",local_mark="00000003",local_port="0",proto="FWM",remote_address="192.168.1.22",remote_port="0"} 58.0
# HELP node_ipvs_backend_weight The current backend weight by local and remote address.
# TYPE node_ipvs_backend_weight gauge
node_ipvs_backend_weight{local_address="10.0.10.10",local_mark="",local_port="443",proto="TCP",remote_address="192.168.1.21",remote_port="443"} 100.0
node_ipvs_backend_weight{local_address="10.0.10.10",local_mark="",local_port="443",proto="TCP",remote_address="192.168.1.22",remote_port="443"} 100.0
node_ipvs_backend_weight{local_address="10.0.10.10",local_mark="",local_port="443",proto="TCP",remote_address="192.168.1.23",remote_port="443"} 0.0
node_ipvs_backend_weight{local_address="10.0.10.11",local_mark="",local_port="53",proto="UDP",remote_address="192.168.1.32",remote_port="53"} 1.0
node_ipvs_backend_weight{local_address="10.0.10.11",local_mark="",local_port="53",proto="UDP",remote_address="192.168.1.33",remote_port="53"} 1.0
node_ipvs_backend_weight{local_address="2001:db8::80",local_mark="",local_port="80",proto="TCP",remote_address="2001:db8::1:1",remote_port="80"} 50.0
node_ipvs_backend_weight{local_address="",local_mark="00000003",local_port="0",proto="FWM",remote_address="192.168.1.21",remote_port="0"} 100.0
node_ipvs_backend_weight{local_address="",local_mark="00000003",local_port="0",proto="FWM",remote_address="192.168.1.22",remote_port="0"} 100.0
"""  # noqa: E501


def ipvs(config: IpvsConfig | None = None, procfs: Path = FIXTURES / "proc") -> IpvsCollector:
    return IpvsCollector(CollectorContext(paths=HostPaths(procfs=procfs), config=config))


def test_fixture_output_is_exact() -> None:
    assert exposition(ipvs()) == EXPECTED


def test_backends_with_the_same_chosen_labels_are_summed() -> None:
    # Listed out of order on purpose: the label order stays node_exporter's.
    found = samples(ipvs(IpvsConfig(backend_labels=["proto", "local_address"])))
    active = {
        labels: value
        for (name, labels), value in found.items()
        if name == "node_ipvs_backend_connections_active"
    }
    assert active == {
        (("local_address", "10.0.10.10"), ("proto", "TCP")): 813.0,
        (("local_address", "10.0.10.11"), ("proto", "UDP")): 0.0,
        (("local_address", "2001:db8::80"), ("proto", "TCP")): 17.0,
        (("local_address", ""), ("proto", "FWM")): 41.0,
    }


def test_addresses_read_as_go_prints_them() -> None:
    assert parse_address("C0A80115:01BB") == ("192.168.1.21", 443)
    assert parse_address("[0000:0000:0000:0000:0000:ffff:c0a8:0115]:0050") == ("192.168.1.21", 80)
    with pytest.raises(ValueError, match="unexpected IP:Port"):
        parse_address("C0A80115")


def test_without_ipvs_the_collector_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(CollectorUnavailable):
        exposition(ipvs(procfs=tmp_path))


def test_a_corrupt_stats_file_fails_the_collection(tmp_path: Path) -> None:
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "ip_vs_stats").write_text("Total\n")
    with pytest.raises(ValueError, match="ip_vs_stats corrupt"):
        exposition(ipvs(procfs=tmp_path))


def test_backend_labels_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "exporter.yml"
    path.write_text("collectors:\n  ipvs: {backend_labels: [local_address, remote_port]}\n")
    config = load_config(path, available()).collectors["ipvs"].config
    assert isinstance(config, IpvsConfig)
    assert config.backend_labels == ["local_address", "remote_port"]
    path.write_text("collectors:\n  ipvs: {backend_labels: [local_address, port]}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, available())
    assert any(p.key.startswith("collectors.ipvs.backend_labels") for p in err.value.problems)
