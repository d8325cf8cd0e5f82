"""Bounded label values: each label keeps at most `cap` distinct values.

The first `cap` values seen are kept as they are; every later new value is reported as
`__other__` and counted in `tocsin_exporter_label_overflow_total{collector,label}`, so a
flood of distinct URLs or user agents cannot grow the exporter's memory or Prometheus's
series count without bound, and the overflow is visible.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily

OTHER = "__other__"

_overflow: dict[tuple[str, str], int] = {}
_overflow_lock = threading.Lock()


def count_overflow(collector: str, label: str, n: int = 1) -> None:
    """Record `n` values of `label` that were replaced by `__other__`."""
    with _overflow_lock:
        key = (collector, label)
        _overflow[key] = _overflow.get(key, 0) + n


def overflow_family(collector: str | None = None) -> CounterMetricFamily:
    """`tocsin_exporter_label_overflow_total`, for one collector or (None) all of them.

    A collector that bounds labels yields its own share of this family; with several such
    collectors the exporter's self-metrics should yield it once for all instead.
    """
    family = CounterMetricFamily(
        "tocsin_exporter_label_overflow",
        "Label values replaced by __other__ because the label reached its cardinality cap.",
        labels=["collector", "label"],
    )
    with _overflow_lock:
        items = sorted(_overflow.items())
    for (owner, label), n in items:
        if collector is None or owner == collector:
            family.add_metric([owner, label], n)
    return family


class LabelLimiter:
    """Maps raw values of one label to at most `cap` kept values plus `__other__`.

    With `allowed`, only those values are ever kept (a closed set such as HTTP methods);
    anything else is `__other__` whatever the cap.
    """

    __slots__ = ("_lock", "_seen", "allowed", "cap", "collector", "label")

    def __init__(
        self,
        collector: str,
        label: str,
        cap: int,
        allowed: Iterable[str] | None = None,
    ) -> None:
        if cap < 1:
            raise ValueError("cap must be at least 1")
        self.collector = collector
        self.label = label
        self.cap = cap
        self.allowed = frozenset(allowed) if allowed is not None else None
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str, n: int = 1) -> str:
        """The value to use as label for `value`; `n` is how many samples it stands for."""
        if value in self._seen:
            return value
        if self.allowed is not None and value not in self.allowed:
            count_overflow(self.collector, self.label, n)
            return OTHER
        with self._lock:
            if value in self._seen:
                return value
            if len(self._seen) < self.cap:
                self._seen.add(value)
                return value
        count_overflow(self.collector, self.label, n)
        return OTHER

    def __len__(self) -> int:
        return len(self._seen)
