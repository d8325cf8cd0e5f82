"""vmstat: selected /proc/vmstat fields as node_vmstat_<field> (untyped, as node_exporter)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.core import UnknownMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.collectors._procfs import read_required, regex_problems

DEFAULT_FIELDS = r"^(oom_kill|pgpg|pswp|pg.*fault).*"


@dataclass
class VmstatConfig:
    """`collectors.vmstat`: which /proc/vmstat fields to export."""

    fields: str = DEFAULT_FIELDS

    def validate(self) -> list[tuple[str, str]]:
        return regex_problems({"fields": self.fields})


@register
class VmstatCollector(Collector):
    """Virtual memory counters (page faults, paging, swapping, OOM kills)."""

    name = "vmstat"
    description = "virtual memory statistics from /proc/vmstat"
    Config = VmstatConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        config = self.config if isinstance(self.config, VmstatConfig) else VmstatConfig()
        self._fields = re.compile(config.fields)

    def collect(self) -> Iterable[Metric]:
        for line in read_required(self.paths.proc("vmstat")).splitlines():
            key, _, raw = line.partition(" ")
            if raw and self._fields.search(key):
                yield UnknownMetricFamily(
                    f"node_vmstat_{key}",
                    f"/proc/vmstat information field {key}.",
                    value=float(raw),
                )
