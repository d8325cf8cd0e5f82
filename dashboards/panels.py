"""The panel shapes the dashboards are built from: graphs, shares, stat tiles, tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict, Unpack

from dashboards.grafana import Panel, Target
from dashboards.promql import rate, sel, sum_rate

RED_FROM_ONE: Sequence[tuple[float, str]] = ((1, "red"),)


class Layout(TypedDict, total=False):
    """What a panel may set besides its title, description, unit and queries."""

    width: int
    height: int
    min: float | None
    max: float | None
    thresholds: Sequence[tuple[float, str]]


def series(metric: str, legend: str = "{{instance}}", extra: str = "") -> Target:
    """The metric as it is, narrowed to the chosen jobs and instances; one line per instance."""
    return Target(sel(metric, extra), legend)


def per_second(metric: str, legend: str = "{{instance}}", extra: str = "") -> Target:
    """The counter's rate, narrowed to the chosen jobs and instances; one line per series."""
    return Target(rate(metric, extra), legend)


def rate_by(by: str, metric: str, legend: str | None = None) -> Target:
    """The counter's rate summed by the labels in `by`, named by them unless `legend` is given."""
    if legend is None:
        legend = " ".join("{{" + label.strip() + "}}" for label in by.split(",") if label.strip())
    return Target(sum_rate(by, metric), legend)


def graph(
    title: str, description: str, unit: str, *targets: Target, **opts: Unpack[Layout]
) -> Panel:
    """A time series, half a row wide."""
    return Panel(title, description, unit, list(targets), **opts)


def fraction(title: str, description: str, *targets: Target, **opts: Unpack[Layout]) -> Panel:
    """A time series of shares, drawn between 0 and 1 unless told otherwise."""
    opts.setdefault("min", 0)
    opts.setdefault("max", 1)
    return graph(title, description, "percentunit", *targets, **opts)


def stat(
    title: str, description: str, unit: str, *targets: Target, **opts: Unpack[Layout]
) -> Panel:
    """The last value as a tile, a quarter of a row wide and half a graph tall unless told."""
    opts.setdefault("width", 6)
    opts.setdefault("height", 4)
    return Panel(title, description, unit, list(targets), kind="stat", **opts)


def problems(title: str, description: str, target: Target) -> Panel:
    """A tile counting what should not exist (expired, unexpected, changed): red from one."""
    return stat(title, description, "short", target, thresholds=RED_FROM_ONE)


def table(
    title: str, description: str, unit: str, *targets: Target, **opts: Unpack[Layout]
) -> Panel:
    """The current value of each series as one table row."""
    return Panel(title, description, unit, list(targets), kind="table", **opts)
