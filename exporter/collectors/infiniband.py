"""infiniband: InfiniBand/RoCE port state and counters from /sys/class/infiniband.

As node_exporter (through procfs): `port_{rcv,xmit}_data` and their 64-bit legacy forms
count 4-octet words and become bytes; `rate` ("100 Gb/sec (4X EDR)") becomes bytes per
second; a counter reading "N/A (no PMA)" is left out; any other unparsable counter fails
the collection.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, register
from exporter.collectors.infiniband_metrics import COUNTERS, COUNTERS_EXT, HELP, HW_COUNTERS
from exporter.devicefilter import DeviceFilter
from exporter.families import Family
from exporter.procfs import read_text
from exporter.sysattr import parse_uint, read_attribute

_NO_PMA = "N/A (no PMA)"
_LABELS = ("device", "port")


@dataclass
class InfinibandConfig:
    """`collectors.infiniband`: which HCAs to report (include wins over exclude)."""

    # --collector.infiniband.device-include
    device_include: re.Pattern[str] | None = None
    # --collector.infiniband.device-exclude
    device_exclude: re.Pattern[str] | None = None


def parse_state(text: str) -> int:
    """`4: ACTIVE` → 4."""
    parts = text.split(":")
    if len(parts) != 2:
        raise ValueError(f"failed to split {text!r} into 'ID: NAME'")
    return int(parts[0].strip())


def parse_rate(text: str) -> float:
    """`100 Gb/sec (4X EDR)` → bytes per second, rounded as procfs (float32, truncated)."""
    head, sep, _ = text.partition(" ")
    if not sep:
        raise ValueError(f"failed to split {text!r}")
    # procfs parses the number at 32-bit precision before scaling it.
    (single,) = struct.unpack("f", struct.pack("f", float(head)))
    return float(int(single * 125000000))


class _Families:
    """Families created on first use, in node_exporter's order of first sample."""

    def __init__(self) -> None:
        self.by_name: dict[str, Family] = {}

    def add(self, suffix: str, typ: str, labels: tuple[str, ...], value: float) -> None:
        family = self.by_name.get(suffix)
        if family is None:
            family = self.by_name[suffix] = Family(
                f"node_infiniband_{suffix}", HELP[suffix], typ, _LABELS
            )
        family.values.append((labels, value))


def _read_counters(directory: str, files: tuple[tuple[str, str, int], ...]) -> dict[str, int]:
    """Metric suffix → value for the counter files present in `directory`."""
    found: dict[str, int] = {}
    for filename, suffix, factor in files:
        text = read_attribute(f"{directory}/{filename}")
        if text is None:
            continue
        value = parse_uint(text)
        if value is None:
            if _NO_PMA in text:
                continue
            raise ValueError(f"{directory}/{filename}: not a counter: {text!r}")
        found[suffix] = value * factor
    return found


@register
class InfinibandCollector(Collector):
    """Per-port state, physical state, rate and traffic/error counters of InfiniBand HCAs."""

    name = "infiniband"
    description = "InfiniBand port statistics from /sys/class/infiniband"
    Config = InfinibandConfig
    config: InfinibandConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._root = str(self.paths.sys("class/infiniband"))
        self._filter = DeviceFilter.build(self.config.device_include, self.config.device_exclude)

    def collect(self) -> Iterable[Metric]:
        try:
            devices = sorted(os.listdir(self._root))
        except FileNotFoundError as exc:
            raise CollectorUnavailable(f"{self._root} does not exist") from exc
        info = Family(
            "node_infiniband_info",
            "Non-numeric data from /sys/class/infiniband/<device>, value is always 1.",
            "gauge",
            ("device", "board_id", "firmware_version", "hca_type"),
        )
        families = _Families()
        for device in devices:
            if self._filter.ignored(device):
                continue
            base = f"{self._root}/{device}"
            firmware = read_text(f"{base}/fw_ver").strip()
            board = read_attribute(f"{base}/board_id") or ""
            hca = read_attribute(f"{base}/hca_type") or ""
            info.values.append(((device, board, firmware, hca), 1.0))
            for port in sorted(os.listdir(f"{base}/ports"), key=int):
                self._port(families, device, port, f"{base}/ports/{port}")
        if info.values:
            yield info
        yield from families.by_name.values()

    @staticmethod
    def _port(families: _Families, device: str, port: str, path: str) -> None:
        labels = (device, str(int(port)))
        families.add("state_id", "gauge", labels, parse_state(read_text(f"{path}/state")))
        phys = parse_state(read_text(f"{path}/phys_state"))
        families.add("physical_state_id", "gauge", labels, phys)
        families.add(
            "rate_bytes_per_second", "gauge", labels, parse_rate(read_text(f"{path}/rate"))
        )
        values: dict[str, int] = {}
        if os.path.isdir(f"{path}/counters"):
            values |= _read_counters(f"{path}/counters_ext", COUNTERS_EXT)
            values |= _read_counters(f"{path}/counters", COUNTERS)
        hw: dict[str, int] = {}
        if os.path.isdir(f"{path}/hw_counters"):
            hw = _read_counters(f"{path}/hw_counters", HW_COUNTERS)
        for _, suffix, _ in (*COUNTERS_EXT, *COUNTERS):
            if suffix in values:
                families.add(suffix, "counter", labels, values[suffix])
        if "lifespan_seconds" in hw:
            # Milliseconds, divided as integers, as node_exporter does.
            families.add("lifespan_seconds", "gauge", labels, hw.pop("lifespan_seconds") // 1000)
        for _, suffix, _ in HW_COUNTERS:
            if suffix in hw:
                families.add(suffix, "counter", labels, hw[suffix])
