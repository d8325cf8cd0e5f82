"""fibrechannel: Fibre Channel HBA port state and counters from /sys/class/fc_host.

Counters are hexadecimal (`0x1a2b`); one reading all ones (0xffffffffffffffff) is one the
HBA firmware does not implement and is left out, as node_exporter does. A counter file
that is absent counts as 0, as in node_exporter 1.5 (1.12.1 dereferences it blindly).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, register
from exporter.families import Family, counter
from exporter.sysattr import parse_uint, read_attribute

_UNIMPLEMENTED = (1 << 64) - 1
_INFO_LABELS = (
    "fc_host",
    "speed",
    "port_state",
    "port_type",
    "port_id",
    "port_name",
    "fabric_name",
    "symbolic_name",
    "supported_classes",
    "supported_speeds",
    "dev_loss_tmo",
)
# World wide names and port ids lose their "0x" prefix, as procfs strips them.
_HEX_PREFIXED = frozenset({"port_id", "port_name", "fabric_name"})
# (statistics file, metric suffix, HELP) in node_exporter's order.
_COUNTERS = (
    ("dumped_frames", "dumped_frames_total", "Number of dumped frames"),
    ("error_frames", "error_frames_total", "Number of errors in frames"),
    ("invalid_crc_count", "invalid_crc_total", "Invalid Cyclic Redundancy Check count"),
    ("rx_frames", "rx_frames_total", "Number of frames received"),
    ("rx_words", "rx_words_total", "Number of words received by host port"),
    ("tx_frames", "tx_frames_total", "Number of frames transmitted by host port"),
    ("tx_words", "tx_words_total", "Number of words transmitted by host port"),
    (
        "seconds_since_last_reset",
        "seconds_since_last_reset_total",
        "Number of seconds since last host port reset",
    ),
    (
        "invalid_tx_word_count",
        "invalid_tx_words_total",
        "Number of invalid words transmitted by host port",
    ),
    ("link_failure_count", "link_failure_total", "Number of times the host port link has failed"),
    (
        "loss_of_sync_count",
        "loss_of_sync_total",
        "Number of failures on either bit or transmission word boundaries",
    ),
    ("loss_of_signal_count", "loss_of_signal_total", "Number of times signal has been lost"),
    (
        "nos_count",
        "nos_total",
        "Number Not_Operational Primitive Sequence received by host port",
    ),
    ("fcp_packet_aborts", "fcp_packet_aborts_total", "Number of aborted packets"),
)


def _attribute(path: str, name: str) -> str:
    value = read_attribute(f"{path}/{name}") or ""
    return value[2:] if name in _HEX_PREFIXED and len(value) > 2 else value


def _counter(path: str) -> int:
    text = read_attribute(path)
    if text is None:
        return 0
    value = parse_uint(text)
    if value is None:
        raise ValueError(f"{path}: not a counter: {text!r}")
    return value


@register
class FibrechannelCollector(Collector):
    """Port state, speed, names and frame/word/error counters per Fibre Channel host."""

    name = "fibrechannel"
    description = "Fibre Channel host statistics from /sys/class/fc_host"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._root = str(self.paths.sys("class/fc_host"))

    def collect(self) -> Iterable[Metric]:
        try:
            hosts = sorted(os.listdir(self._root))
        except FileNotFoundError as exc:
            raise CollectorUnavailable(f"{self._root} does not exist") from exc
        info = Family(
            "node_fibrechannel_info",
            "Non-numeric data from /sys/class/fc_host/<host>, value is always 1.",
            "gauge",
            _INFO_LABELS,
        )
        counters = [
            counter(f"node_fibrechannel_{suffix}", help_text, ["fc_host"])
            for _, suffix, help_text in _COUNTERS
        ]
        for host in hosts:
            path = f"{self._root}/{host}"
            values = tuple(_attribute(path, name) for name in _INFO_LABELS[1:])
            info.values.append(((host, *values), 1.0))
            for (filename, _, _), family in zip(_COUNTERS, counters, strict=True):
                value = _counter(f"{path}/statistics/{filename}")
                if value != _UNIMPLEMENTED:
                    family.values.append(((host,), float(value)))
        if info.values:
            yield info
        yield from (family for family in counters if family.values)
