"""netclass and bonding: exact output against the fixture /sys/class/net tree."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from exporter.collector import CollectorContext, CollectorUnavailable, HostPaths
from exporter.collectors.bonding import BondingCollector
from exporter.collectors.netclass import NetclassCollector, NetclassConfig
from exporter.config import load_config
from exporter.discovery import available
from exporter.sysattr import parse_int, parse_uint
from servicekit.problems import ConfigError
from tests.conftest import FIXTURES
from tests.registry import exposition, samples

FIXTURE_PATHS = HostPaths(procfs=FIXTURES / "proc", sysfs=FIXTURES / "sys")

# bond0/bond1 (bonding masters), eth0 (10 Gbit/s), lo (no duplex/speed), wlan0 (a 4.9
# kernel's layout: no carrier_up/down counts; down, speed -1).
NETCLASS_EXPECTED = """\
# HELP node_network_up Value is 1 if operstate is 'up', 0 otherwise.
# TYPE node_network_up gauge
node_network_up{device="bond0"} 1.0
node_network_up{device="bond1"} 1.0
node_network_up{device="eth0"} 1.0
node_network_up{device="lo"} 0.0
node_network_up{device="wlan0"} 0.0
# HELP node_network_info Non-numeric data from /sys/class/net/<iface>, value is always 1.
# TYPE node_network_info gauge
node_network_info{address="52:54:00:aa:bb:01",adminstate="up",broadcast="ff:ff:ff:ff:ff:ff",device="bond0",duplex="full",ifalias="",operstate="up"} 1.0
node_network_info{address="52:54:00:aa:bb:02",adminstate="up",broadcast="ff:ff:ff:ff:ff:ff",device="bond1",duplex="full",ifalias="",operstate="up"} 1.0
node_network_info{address="52:54:00:12:34:56",adminstate="up",broadcast="ff:ff:ff:ff:ff:ff",device="eth0",duplex="full",ifalias="",operstate="up"} 1.0
node_network_info{address="00:00:00:00:00:00",adminstate="up",broadcast="00:00:00:00:00:00",device="lo",duplex="",ifalias="",operstate="unknown"} 1.0
node_network_info{address="a4:c3:f0:85:ab:10",adminstate="down",broadcast="ff:ff:ff:ff:ff:ff",device="wlan0",duplex="unknown",ifalias="office-wifi",operstate="down"} 1.0
# HELP node_network_address_assign_type Network device property: address_assign_type
# TYPE node_network_address_assign_type gauge
node_network_address_assign_type{device="bond0"} 3.0
node_network_address_assign_type{device="bond1"} 3.0
node_network_address_assign_type{device="eth0"} 0.0
node_network_address_assign_type{device="lo"} 0.0
node_network_address_assign_type{device="wlan0"} 0.0
# HELP node_network_carrier Network device property: carrier
# TYPE node_network_carrier gauge
node_network_carrier{device="bond0"} 1.0
node_network_carrier{device="bond1"} 1.0
node_network_carrier{device="eth0"} 1.0
node_network_carrier{device="lo"} 1.0
# HELP node_network_carrier_changes_total Network device property: carrier_changes_total
# TYPE node_network_carrier_changes_total counter
node_network_carrier_changes_total{device="bond0"} 1.0
node_network_carrier_changes_total{device="bond1"} 2.0
node_network_carrier_changes_total{device="eth0"} 3.0
node_network_carrier_changes_total{device="lo"} 0.0
node_network_carrier_changes_total{device="wlan0"} 7.0
# HELP node_network_carrier_up_changes_total Network device property: carrier_up_changes_total
# TYPE node_network_carrier_up_changes_total counter
node_network_carrier_up_changes_total{device="bond0"} 1.0
node_network_carrier_up_changes_total{device="eth0"} 2.0
node_network_carrier_up_changes_total{device="lo"} 0.0
# HELP node_network_carrier_down_changes_total Network device property: carrier_down_changes_total
# TYPE node_network_carrier_down_changes_total counter
node_network_carrier_down_changes_total{device="bond0"} 0.0
node_network_carrier_down_changes_total{device="eth0"} 1.0
node_network_carrier_down_changes_total{device="lo"} 0.0
# HELP node_network_device_id Network device property: device_id
# TYPE node_network_device_id gauge
node_network_device_id{device="bond0"} 0.0
node_network_device_id{device="bond1"} 0.0
node_network_device_id{device="eth0"} 0.0
node_network_device_id{device="lo"} 0.0
node_network_device_id{device="wlan0"} 0.0
# HELP node_network_dormant Network device property: dormant
# TYPE node_network_dormant gauge
node_network_dormant{device="bond0"} 0.0
node_network_dormant{device="bond1"} 0.0
node_network_dormant{device="eth0"} 0.0
node_network_dormant{device="lo"} 0.0
node_network_dormant{device="wlan0"} 0.0
# HELP node_network_flags Network device property: flags
# TYPE node_network_flags gauge
node_network_flags{device="bond0"} 5123.0
node_network_flags{device="bond1"} 5123.0
node_network_flags{device="eth0"} 4099.0
node_network_flags{device="lo"} 9.0
node_network_flags{device="wlan0"} 4098.0
# HELP node_network_iface_id Network device property: iface_id
# TYPE node_network_iface_id gauge
node_network_iface_id{device="bond0"} 5.0
node_network_iface_id{device="bond1"} 6.0
node_network_iface_id{device="eth0"} 2.0
node_network_iface_id{device="lo"} 1.0
node_network_iface_id{device="wlan0"} 3.0
# HELP node_network_iface_link Network device property: iface_link
# TYPE node_network_iface_link gauge
node_network_iface_link{device="bond0"} 5.0
node_network_iface_link{device="bond1"} 6.0
node_network_iface_link{device="eth0"} 2.0
node_network_iface_link{device="lo"} 1.0
node_network_iface_link{device="wlan0"} 3.0
# HELP node_network_iface_link_mode Network device property: iface_link_mode
# TYPE node_network_iface_link_mode gauge
node_network_iface_link_mode{device="bond0"} 0.0
node_network_iface_link_mode{device="bond1"} 0.0
node_network_iface_link_mode{device="eth0"} 0.0
node_network_iface_link_mode{device="lo"} 0.0
node_network_iface_link_mode{device="wlan0"} 1.0
# HELP node_network_mtu_bytes Network device property: mtu_bytes
# TYPE node_network_mtu_bytes gauge
node_network_mtu_bytes{device="bond0"} 9000.0
node_network_mtu_bytes{device="bond1"} 1500.0
node_network_mtu_bytes{device="eth0"} 1500.0
node_network_mtu_bytes{device="lo"} 65536.0
node_network_mtu_bytes{device="wlan0"} 1500.0
# HELP node_network_name_assign_type Network device property: name_assign_type
# TYPE node_network_name_assign_type gauge
node_network_name_assign_type{device="bond0"} 3.0
node_network_name_assign_type{device="eth0"} 4.0
node_network_name_assign_type{device="lo"} 2.0
node_network_name_assign_type{device="wlan0"} 4.0
# HELP node_network_net_dev_group Network device property: net_dev_group
# TYPE node_network_net_dev_group gauge
node_network_net_dev_group{device="bond0"} 0.0
node_network_net_dev_group{device="eth0"} 0.0
node_network_net_dev_group{device="lo"} 0.0
node_network_net_dev_group{device="wlan0"} 0.0
# HELP node_network_speed_bytes Network device property: speed_bytes
# TYPE node_network_speed_bytes gauge
node_network_speed_bytes{device="bond0"} 2.5e+09
node_network_speed_bytes{device="bond1"} 1.25e+08
node_network_speed_bytes{device="eth0"} 1.25e+09
node_network_speed_bytes{device="wlan0"} -125000.0
# HELP node_network_transmit_queue_length Network device property: transmit_queue_length
# TYPE node_network_transmit_queue_length gauge
node_network_transmit_queue_length{device="bond0"} 1000.0
node_network_transmit_queue_length{device="bond1"} 0.0
node_network_transmit_queue_length{device="eth0"} 1000.0
node_network_transmit_queue_length{device="lo"} 1000.0
node_network_transmit_queue_length{device="wlan0"} 1000.0
# HELP node_network_protocol_type Network device property: protocol_type
# TYPE node_network_protocol_type gauge
node_network_protocol_type{device="bond0"} 1.0
node_network_protocol_type{device="bond1"} 1.0
node_network_protocol_type{device="eth0"} 1.0
node_network_protocol_type{device="lo"} 772.0
node_network_protocol_type{device="wlan0"} 1.0
"""  # noqa: E501

BONDING_EXPECTED = """\
# HELP node_bonding_slaves Number of configured slaves per bonding interface.
# TYPE node_bonding_slaves gauge
node_bonding_slaves{master="bond0"} 2.0
node_bonding_slaves{master="bond1"} 1.0
# HELP node_bonding_active Number of active slaves per bonding interface.
# TYPE node_bonding_active gauge
node_bonding_active{master="bond0"} 1.0
node_bonding_active{master="bond1"} 1.0
"""


def netclass(config: NetclassConfig | None = None, paths: HostPaths = FIXTURE_PATHS) -> str:
    return exposition(NetclassCollector(CollectorContext(paths=paths, config=config)))


def test_netclass_fixture_output_is_exact() -> None:
    assert netclass() == NETCLASS_EXPECTED


def test_netclass_ignored_devices_and_invalid_speed() -> None:
    config = NetclassConfig(ignored_devices=re.compile("^(bond|lo)"), ignore_invalid_speed=True)
    found = samples(NetclassCollector(CollectorContext(paths=FIXTURE_PATHS, config=config)))
    devices = {dict(labels)["device"] for _, labels in found}
    assert devices == {"eth0", "wlan0"}
    speeds = {
        dict(k[1])["device"]: v for k, v in found.items() if k[0] == "node_network_speed_bytes"
    }
    assert speeds == {"eth0": 1.25e9}


def test_netclass_without_sysfs_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(CollectorUnavailable):
        netclass(paths=HostPaths(sysfs=tmp_path))


def test_netclass_attribute_that_fails_otherwise_fails_the_collection(tmp_path: Path) -> None:
    # EINVAL/ENOENT mean "not offered"; an attribute that is a directory (EISDIR) is an error.
    shutil.copytree(FIXTURES / "sys" / "class" / "net" / "eth0", tmp_path / "class/net/eth0")
    (tmp_path / "class/net/eth0/mtu").unlink()
    (tmp_path / "class/net/eth0/mtu").mkdir()
    with pytest.raises(IsADirectoryError):
        netclass(paths=HostPaths(sysfs=tmp_path))


def test_netclass_skips_an_interface_that_vanished_while_listed(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "sys" / "class" / "net" / "eth0", tmp_path / "class/net/eth0")
    # A veth removed between the directory listing and the reads leaves a dangling link.
    (tmp_path / "class/net/veth1").symlink_to(tmp_path / "gone")
    found = samples(NetclassCollector(CollectorContext(paths=HostPaths(sysfs=tmp_path))))
    assert {dict(labels)["device"] for _, labels in found} == {"eth0"}


def test_parse_int_reads_like_go_base_zero() -> None:
    assert [parse_int(s) for s in ("0x1003", "-1", "017", "10000", "", "up")] == [
        4099,
        -1,
        15,
        10000,
        None,
        None,
    ]
    unsigned = ("0x10", "-1", "+1", str(1 << 64), str((1 << 64) - 1))
    assert [parse_uint(s) for s in unsigned] == [16, None, None, None, (1 << 64) - 1]


def test_netclass_settings_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "exporter.yml"
    path.write_text(
        "collectors:\n  netclass: {ignored_devices: '^veth', ignore_invalid_speed: true}\n"
    )
    config = load_config(path, available()).collectors["netclass"].config
    assert isinstance(config, NetclassConfig) and config.ignored_devices is not None
    assert (config.ignored_devices.pattern, config.ignore_invalid_speed) == ("^veth", True)
    path.write_text("collectors:\n  netclass: {ignored_devices: '(', ignore_invalid_speed: x}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, available())
    keys = {p.key for p in err.value.problems}
    assert {
        "collectors.netclass.ignored_devices",
        "collectors.netclass.ignore_invalid_speed",
    } <= keys


def test_bonding_fixture_output_is_exact() -> None:
    assert exposition(BondingCollector(CollectorContext(paths=FIXTURE_PATHS))) == BONDING_EXPECTED


def test_bonding_without_bonding_driver_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "class/net/eth0").mkdir(parents=True)
    with pytest.raises(CollectorUnavailable):
        exposition(BondingCollector(CollectorContext(paths=HostPaths(sysfs=tmp_path))))


def test_bonding_with_no_masters_sends_nothing(tmp_path: Path) -> None:
    (tmp_path / "class/net").mkdir(parents=True)
    (tmp_path / "class/net/bonding_masters").write_text("\n")
    assert exposition(BondingCollector(CollectorContext(paths=HostPaths(sysfs=tmp_path)))) == ""
