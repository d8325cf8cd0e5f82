"""The one registry adapter: a collector of ours (anything with `collect()`) or a list of
families through prometheus_client's registry and exposition, parsed back into samples;
or its families read straight, without any exposition.

prometheus_client is the reference here; what the exporter serves is rendered by its own
code (exporter.exposition), which tests/unit/test_exposition_render.py holds to it.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from tests.metrics import Series, parse_series

# {sample name: {label values, in the family's label order: value}}
Found = dict[str, dict[tuple[str, ...], float]]


class Families:
    """Fixed metric families as something prometheus_client can collect from."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def registry(collector: Collector) -> CollectorRegistry:
    """A registry that collects from `collector` on every exposition (and never before:
    our collectors have no `describe`, so registering does not collect)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(collector)
    return reg


def exposition(source: Collector) -> str:
    """prometheus_client's text format for `source`: a registry, or a collector of ours
    (collected once, now)."""
    reg = source if isinstance(source, CollectorRegistry) else registry(source)
    return generate_latest(reg).decode()


def samples(source: Collector) -> Series:
    """`exposition(source)` parsed: {(name, sorted labels): value}."""
    return parse_series(exposition(source))


def collected(families: Iterable[Metric]) -> Found:
    """Samples straight from families (say, `collector.collect()`), no exposition."""
    out: Found = {}
    for family in families:
        for s in family.samples:
            out.setdefault(s.name, {})[tuple(s.labels.values())] = s.value
    return out
