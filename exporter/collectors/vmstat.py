"""vmstat: selected /proc/vmstat fields as node_vmstat_<field> (untyped, as node_exporter)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import untyped
from exporter.procfs import read_required

DEFAULT_FIELDS = r"^(oom_kill|pgpg|pswp|pg.*fault).*"
_FIELDS = re.compile(DEFAULT_FIELDS)


@dataclass
class VmstatConfig:
    """`collectors.vmstat`: which /proc/vmstat fields to export."""

    fields: re.Pattern[str] = _FIELDS


@register
class VmstatCollector(Collector):
    """Virtual memory counters (page faults, paging, swapping, OOM kills)."""

    name = "vmstat"
    description = "virtual memory statistics from /proc/vmstat"
    Config = VmstatConfig
    config: VmstatConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._fields = self.config.fields
        self._vmstat = str(self.paths.proc("vmstat"))
        # /proc/vmstat has a fixed set of ~180 keys: match each against the pattern once.
        self._wanted: dict[str, tuple[str, str] | None] = {}
        # (number of lines, regex of the exported lines) from the last read that learned it.
        self._learned: tuple[int, re.Pattern[str] | None] | None = None

    def _metric(self, key: str) -> tuple[str, str] | None:
        """(name, help) of the metric for a /proc/vmstat key, or None if not exported."""
        try:
            return self._wanted[key]
        except KeyError:
            found = None
            if self._fields.search(key):
                found = (f"node_vmstat_{key}", f"/proc/vmstat information field {key}.")
            # Races between collector threads only compute the same value twice.
            self._wanted[key] = found
            return found

    def _learn(self, text: str) -> re.Pattern[str] | None:
        """A regex picking out the exported lines, or None when none is exported."""
        keys = []
        for line in text.splitlines():
            key, _, raw = line.partition(" ")
            if raw and self._metric(key) is not None:
                keys.append(re.escape(key))
        if not keys:
            return None
        return re.compile(rf"^({'|'.join(keys)}) (\S+)$", re.MULTILINE)

    def collect(self) -> Iterable[Metric]:
        text = read_required(self._vmstat)
        # The kernel's key set is fixed, so the exported lines are found by a regex learned
        # from the first read (again if the number of lines changes) instead of looking at
        # all ~190 lines in Python on every scrape.
        lines = text.count("\n")
        learned = self._learned
        if learned is None or learned[0] != lines:
            learned = self._learned = (lines, self._learn(text))
        if learned[1] is None:
            return
        for key, raw in learned[1].findall(text):
            metric = self._wanted[key]
            if metric is not None:
                yield untyped(metric[0], metric[1], value=float(raw))
