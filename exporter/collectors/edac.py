"""edac: memory controller error counts (EDAC) from /sys/devices/system/edac/mc."""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import Family, counter
from exporter.sysattr import list_dir, read_attr

_CHANNEL_SUFFIX = "_ce_count"


def _count(path: str) -> float:
    """A required count: a missing or malformed file fails the collection, as upstream."""
    return float(int(read_attr(path, frozenset()) or ""))


def _numbered(entries: Iterable[str], prefix: str) -> list[tuple[str, str]]:
    """(entry, number) for entries matching the glob `prefix[0-9]*`."""
    return [
        (e, e[len(prefix) :])
        for e in entries
        if e.startswith(prefix) and e[len(prefix) :][:1].isdigit()
    ]


def dimm_label(csrow: str, channel: str) -> str:
    """The DIMM's label as node_exporter cleans it, or `unknown` without one."""
    try:
        with open(os.path.join(csrow, f"ch{channel}_dimm_label"), encoding="utf-8") as f:
            label = f.read().strip()
    except OSError:
        return "unknown"
    return label.replace("#", "").replace("csrow", "_csrow").replace("channel", "_channel")


@register
class EdacCollector(Collector):
    """Correctable and uncorrectable memory errors per controller, csrow and channel."""

    name = "edac"
    description = "memory error counters from /sys/devices/system/edac/mc"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._dir = str(self.paths.sys("devices/system/edac/mc"))

    def collect(self) -> Iterable[Metric]:
        ce = counter(
            "node_edac_correctable_errors_total", "Total correctable memory errors.", ["controller"]
        )
        ue = counter(
            "node_edac_uncorrectable_errors_total",
            "Total uncorrectable memory errors.",
            ["controller"],
        )
        row_ce = counter(
            "node_edac_csrow_correctable_errors_total",
            "Total correctable memory errors for this csrow.",
            ["controller", "csrow"],
        )
        row_ue = counter(
            "node_edac_csrow_uncorrectable_errors_total",
            "Total uncorrectable memory errors for this csrow.",
            ["controller", "csrow"],
        )
        channel = ["controller", "csrow", "channel", "dimm_label"]
        ch_ce = counter(
            "node_edac_channel_correctable_errors_total",
            "Total correctable memory errors for this channel.",
            channel,
        )
        ch_ue = counter(
            "node_edac_channel_uncorrectable_errors_total",
            "Total uncorrectable memory errors for this channel.",
            channel,
        )
        for entry, mc in _numbered(list_dir(self._dir), "mc"):
            path = os.path.join(self._dir, entry)
            ce.values.append(((mc,), _count(f"{path}/ce_count")))
            row_ce.values.append(((mc, "unknown"), _count(f"{path}/ce_noinfo_count")))
            ue.values.append(((mc,), _count(f"{path}/ue_count")))
            row_ue.values.append(((mc, "unknown"), _count(f"{path}/ue_noinfo_count")))
            for row_entry, row in _numbered(sorted(os.listdir(path)), "csrow"):
                row_path = os.path.join(path, row_entry)
                row_ce.values.append(((mc, row), _count(f"{row_path}/ce_count")))
                row_ue.values.append(((mc, row), _count(f"{row_path}/ue_count")))
                self._channels(row_path, mc, row, ch_ce, ch_ue)
        families: tuple[Family, ...] = (ce, ue, row_ce, row_ue, ch_ce, ch_ue)
        yield from (family for family in families if family.values)

    @staticmethod
    def _channels(path: str, mc: str, row: str, ch_ce: Family, ch_ue: Family) -> None:
        for entry in sorted(os.listdir(path)):
            number = entry[2 : -len(_CHANNEL_SUFFIX)]
            if not (
                entry.startswith("ch") and entry.endswith(_CHANNEL_SUFFIX) and number.isdigit()
            ):
                continue
            labels = (mc, row, number, dimm_label(path, number))
            ch_ce.values.append((labels, _count(os.path.join(path, entry))))
            raw = read_attr(f"{path}/ch{number}_ue_count")
            if raw is not None:
                ch_ue.values.append((labels, float(int(raw))))
