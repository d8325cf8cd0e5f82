"""fibrechannel: exact output against the fixture /sys/class/fc_host tree.

host1 is a QLogic QLE2672 online on a 16G fabric (dumped_frames unimplemented: all ones);
host2 an Emulex LPe12002 with its link down (nos_count unimplemented).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from exporter.collector import CollectorContext, CollectorUnavailable, HostPaths
from exporter.collectors.fibrechannel import FibrechannelCollector
from tests.conftest import FIXTURES
from tests.registry import exposition, samples

EXPECTED = """\
# HELP node_fibrechannel_info Non-numeric data from /sys/class/fc_host/<host>, value is always 1.
# TYPE node_fibrechannel_info gauge
node_fibrechannel_info{dev_loss_tmo="30",fabric_name="100050eb1a6c3d22",fc_host="host1",port_id="010a00",port_name="21000024ff7ef9d2",port_state="Online",port_type="NPort (fabric via point-to-point)",speed="16 Gbit",supported_classes="Class 3",supported_speeds="4 Gbit, 8 Gbit, 16 Gbit",symbolic_name="QLE2672 FW:v8.07.00 DVR:v10.02.00.106-k"} 1.0
node_fibrechannel_info{dev_loss_tmo="10",fabric_name="0",fc_host="host2",port_id="000000",port_name="10000000c9a1b2c3",port_state="Linkdown",port_type="Unknown",speed="unknown",supported_classes="Class 3",supported_speeds="2 Gbit, 4 Gbit, 8 Gbit",symbolic_name="Emulex LPe12002-M8 FV2.02X11 DV14.0.0.4 HN:db02 OS:Linux"} 1.0
# HELP node_fibrechannel_dumped_frames_total Number of dumped frames
# TYPE node_fibrechannel_dumped_frames_total counter
node_fibrechannel_dumped_frames_total{fc_host="host2"} 0.0
# HELP node_fibrechannel_error_frames_total Number of errors in frames
# TYPE node_fibrechannel_error_frames_total counter
node_fibrechannel_error_frames_total{fc_host="host1"} 0.0
node_fibrechannel_error_frames_total{fc_host="host2"} 3.0
# HELP node_fibrechannel_invalid_crc_total Invalid Cyclic Redundancy Check count
# TYPE node_fibrechannel_invalid_crc_total counter
node_fibrechannel_invalid_crc_total{fc_host="host1"} 2.0
node_fibrechannel_invalid_crc_total{fc_host="host2"} 0.0
# HELP node_fibrechannel_rx_frames_total Number of frames received
# TYPE node_fibrechannel_rx_frames_total counter
node_fibrechannel_rx_frames_total{fc_host="host1"} 4.74693258e+08
node_fibrechannel_rx_frames_total{fc_host="host2"} 737.0
# HELP node_fibrechannel_rx_words_total Number of words received by host port
# TYPE node_fibrechannel_rx_words_total counter
node_fibrechannel_rx_words_total{fc_host="host1"} 3.0318406976e+10
node_fibrechannel_rx_words_total{fc_host="host2"} 2948.0
# HELP node_fibrechannel_tx_frames_total Number of frames transmitted by host port
# TYPE node_fibrechannel_tx_frames_total counter
node_fibrechannel_tx_frames_total{fc_host="host1"} 4.55773235e+08
node_fibrechannel_tx_frames_total{fc_host="host2"} 752.0
# HELP node_fibrechannel_tx_words_total Number of words transmitted by host port
# TYPE node_fibrechannel_tx_words_total counter
node_fibrechannel_tx_words_total{fc_host="host1"} 2.9002242656e+10
node_fibrechannel_tx_words_total{fc_host="host2"} 3008.0
# HELP node_fibrechannel_seconds_since_last_reset_total Number of seconds since last host port reset
# TYPE node_fibrechannel_seconds_since_last_reset_total counter
node_fibrechannel_seconds_since_last_reset_total{fc_host="host1"} 1.0325034e+07
node_fibrechannel_seconds_since_last_reset_total{fc_host="host2"} 6975.0
# HELP node_fibrechannel_invalid_tx_words_total Number of invalid words transmitted by host port
# TYPE node_fibrechannel_invalid_tx_words_total counter
node_fibrechannel_invalid_tx_words_total{fc_host="host1"} 8.0
node_fibrechannel_invalid_tx_words_total{fc_host="host2"} 0.0
# HELP node_fibrechannel_link_failure_total Number of times the host port link has failed
# TYPE node_fibrechannel_link_failure_total counter
node_fibrechannel_link_failure_total{fc_host="host1"} 1.0
node_fibrechannel_link_failure_total{fc_host="host2"} 4.0
# HELP node_fibrechannel_loss_of_sync_total Number of failures on either bit or transmission word boundaries
# TYPE node_fibrechannel_loss_of_sync_total counter
node_fibrechannel_loss_of_sync_total{fc_host="host1"} 5.0
node_fibrechannel_loss_of_sync_total{fc_host="host2"} 9.0
# HELP node_fibrechannel_loss_of_signal_total Number of times signal has been lost
# TYPE node_fibrechannel_loss_of_signal_total counter
node_fibrechannel_loss_of_signal_total{fc_host="host1"} 17.0
node_fibrechannel_loss_of_signal_total{fc_host="host2"} 0.0
# HELP node_fibrechannel_nos_total Number Not_Operational Primitive Sequence received by host port
# TYPE node_fibrechannel_nos_total counter
node_fibrechannel_nos_total{fc_host="host1"} 0.0
# HELP node_fibrechannel_fcp_packet_aborts_total Number of aborted packets
# TYPE node_fibrechannel_fcp_packet_aborts_total counter
node_fibrechannel_fcp_packet_aborts_total{fc_host="host1"} 19.0
node_fibrechannel_fcp_packet_aborts_total{fc_host="host2"} 0.0
"""  # noqa: E501


def fibrechannel(sysfs: Path = FIXTURES / "sys") -> FibrechannelCollector:
    return FibrechannelCollector(CollectorContext(paths=HostPaths(sysfs=sysfs)))


def test_fixture_output_is_exact() -> None:
    assert exposition(fibrechannel()) == EXPECTED


def test_without_fc_hosts_the_collector_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(CollectorUnavailable):
        exposition(fibrechannel(tmp_path))


def test_a_missing_counter_is_zero_and_a_garbled_one_fails(tmp_path: Path) -> None:
    host = tmp_path / "class" / "fc_host" / "host1"
    shutil.copytree(FIXTURES / "sys" / "class" / "fc_host" / "host1", host)
    (host / "statistics" / "tx_words").unlink()
    found = samples(fibrechannel(tmp_path))
    assert found[("node_fibrechannel_tx_words_total", (("fc_host", "host1"),))] == 0
    (host / "statistics" / "rx_words").write_text("lots\n")
    with pytest.raises(ValueError, match="rx_words"):
        exposition(fibrechannel(tmp_path))
