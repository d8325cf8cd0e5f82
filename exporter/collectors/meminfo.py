"""meminfo: every /proc/meminfo field as node_memory_<Field>[_bytes], as node_exporter."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import gauge
from exporter.procfs import read_required

_PARENS = re.compile(r"\((.*)\)")


# The field set is fixed per kernel, so names are worked out once per field, not per scrape.
@lru_cache(maxsize=1024)
def _suffix(field: str, has_unit: bool) -> tuple[str, float]:
    key = _PARENS.sub(r"_\1", field.rstrip(":"))
    # Every field with a unit is in kB (KiB); HugePages_* are plain counts.
    return (key + "_bytes", 1024.0) if has_unit else (key, 1.0)


@lru_cache(maxsize=1024)
def _family(key: str) -> tuple[str, str]:
    return f"node_memory_{key}", f"Memory information field {key}."


# `Field: value [kB]`, one per line; the regex engine splits the lines, not Python code.
_LINE = re.compile(r"^(\S+)[ \t]+(\S+)([ \t]+\S+)?[ \t]*$", re.MULTILINE)


def parse_meminfo(text: str) -> dict[str, float]:
    """Metric-name suffix → value: `Active(anon): 4 kB` → `Active_anon_bytes` = 4096."""
    values: dict[str, float] = {}
    for field, raw, unit in _LINE.findall(text):
        key, factor = _suffix(field, bool(unit))
        values[key] = float(raw) * factor
    return values


@register
class MeminfoCollector(Collector):
    """Memory statistics, one gauge per /proc/meminfo field."""

    name = "meminfo"
    description = "memory statistics from /proc/meminfo"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._meminfo = str(self.paths.proc("meminfo"))

    def collect(self) -> Iterable[Metric]:
        for key, value in parse_meminfo(read_required(self._meminfo)).items():
            name, help_text = _family(key)
            yield gauge(name, help_text, value=value)
