"""A lightweight metric family for the exporter's own hot collectors.

prometheus_client's families validate their name on every construction and keep one
`Sample` named tuple (with a fresh label dict) per sample, and the renderer then takes all
of that apart again. A `Family` keeps label values as tuples and values as floats, and
`exporter.exposition` renders it straight from them. It still is a prometheus_client
`Metric`: its `samples` are built when someone asks (prometheus_client's own renderer in
the tests, a plugin that post-processes families), so it goes wherever a Metric goes.

A family whose contents never change (uname, os) can be `freeze()`d and yielded again on
every collection: the renderer then renders it once per format and keeps the text.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client.metrics_core import Metric
from prometheus_client.samples import Sample


class Family(Metric):
    """Samples as (label values, value) pairs under fixed label names."""

    unit = ""
    # Rendered text per format (OpenMetrics or not); a dict only once frozen.
    rendered: dict[bool, str] | None = None

    def __init__(
        self,
        name: str,
        documentation: str,
        typ: str,
        labels: Sequence[str] = (),
        value: float | None = None,
    ) -> None:
        # Not Metric.__init__: it re-validates the name and type on every collection,
        # and ours are fixed strings in our own code.
        if typ == "counter":
            if name.endswith("_total"):
                name = name[:-6]
            sample_name = name + "_total"
        else:
            sample_name = name
        self.name = name
        self.documentation = documentation
        self.type = typ
        self.label_names = tuple(labels)
        self.sample_name = sample_name
        # What the renderer looks its header up by.
        self.key = (name, typ, documentation, "", sample_name)
        self.values: list[tuple[tuple[str, ...], float]] = [] if value is None else [((), value)]

    @property
    def frozen(self) -> bool:
        """Whether the family takes no more samples (and its rendered text is kept)."""
        return self.rendered is not None

    def add_metric(self, labels: Sequence[str], value: float) -> None:
        """Add a sample with these label values (in `labels` order), as prometheus_client."""
        if self.rendered is not None:
            raise ValueError(f"family {self.name} is frozen")
        self.values.append((tuple(labels), value))

    def freeze(self) -> Family:
        """Mark the family unchanging, so its rendered text can be kept; returns it."""
        self.rendered = {}
        return self

    # Read-only where Metric's is a plain list: the pairs in `values` are the real data.
    @property
    def samples(self) -> list[Sample]:  # type: ignore[override]
        """The samples as prometheus_client's families hold them (built on each call)."""
        names = self.label_names
        return [
            Sample(self.sample_name, dict(zip(names, values, strict=True)), value)
            for values, value in self.values
        ]


def counter(
    name: str, documentation: str, labels: Sequence[str] = (), value: float | None = None
) -> Family:
    """A counter family, named as CounterMetricFamily names it (`_total` on the samples)."""
    return Family(name, documentation, "counter", labels, value)


def gauge(
    name: str, documentation: str, labels: Sequence[str] = (), value: float | None = None
) -> Family:
    """A gauge family."""
    return Family(name, documentation, "gauge", labels, value)


def untyped(
    name: str, documentation: str, labels: Sequence[str] = (), value: float | None = None
) -> Family:
    """An untyped family (`unknown` in OpenMetrics), as UnknownMetricFamily."""
    return Family(name, documentation, "unknown", labels, value)
