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

    def collect(self) -> Iterable[Metric]:
        for line in read_required(self._vmstat).splitlines():
            key, _, raw = line.partition(" ")
            if not raw:
                continue
            metric = self._metric(key)
            if metric is not None:
                yield untyped(metric[0], metric[1], value=float(raw))
