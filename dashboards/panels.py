"""The panel shapes the dashboards are built from — graphs, shares, stat tiles, tables — as
the SDK's panel builders, and the PromQL targets they show."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict, TypeVar, Unpack

from grafana_foundation_sdk.builders import common as common_sdk
from grafana_foundation_sdk.builders import dashboard as sdk
from grafana_foundation_sdk.builders import prometheus, timeseries
from grafana_foundation_sdk.builders import stat as stat_sdk
from grafana_foundation_sdk.builders import table as table_sdk
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import prometheus as prometheus_model

from dashboards.grafana import DS, PanelBuilder
from dashboards.promql import rate, sel, sum_rate

RED_FROM_ONE: Sequence[tuple[float, str]] = ((1, "red"),)
Query = prometheus.Dataquery
P = TypeVar("P", timeseries.Panel, stat_sdk.Panel, table_sdk.Panel)


class Layout(TypedDict, total=False):
    """What a panel may set besides its title, description, unit and queries."""

    id: int
    width: int
    height: int
    min: float | None
    max: float | None
    thresholds: Sequence[tuple[float, str]]


def query(expr: str, legend: str = "") -> Query:
    """One PromQL query of a panel; `legend` names its series (Grafana's own when empty)."""
    return Query().expr(expr).legend_format(legend or "__auto").datasource(DS)


def series(metric: str, legend: str = "{{instance}}", extra: str = "") -> Query:
    """The metric as it is, narrowed to the chosen clusters, jobs and instances."""
    return query(sel(metric, extra), legend)


def per_second(metric: str, legend: str = "{{instance}}", extra: str = "") -> Query:
    """The counter's rate, narrowed to the chosen clusters, jobs and instances."""
    return query(rate(metric, extra), legend)


def rate_by(by: str, metric: str, legend: str | None = None) -> Query:
    """The counter's rate summed by the labels in `by`, named by them unless `legend` is given."""
    if legend is None:
        legend = " ".join("{{" + label.strip() + "}}" for label in by.split(",") if label.strip())
    return query(sum_rate(by, metric), legend)


def _thresholds(steps: Sequence[tuple[float, str]]) -> sdk.ThresholdsConfig:
    """Green below the first step, then each step's colour from its value."""
    return (
        sdk.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps(
            [
                model.Threshold(color="green", value=None),
                *(model.Threshold(color=color, value=value) for value, color in steps),
            ]
        )
    )


def _panel(
    panel: P,
    title: str,
    description: str,
    unit: str,
    targets: Sequence[Query],
    opts: Layout,
) -> P:
    """Title, description, unit, datasource, queries (lettered A, B, ...), size and scale."""
    panel.title(title).description(description).unit(unit).datasource(DS)
    panel.span(opts.get("width", 12)).height(opts.get("height", 8))
    panel.thresholds(_thresholds(opts.get("thresholds", ())))
    if "id" in opts:
        panel.id(opts["id"])
    if opts.get("min") is not None:
        panel.min(float(opts["min"] or 0))
    if opts.get("max") is not None:
        panel.max(float(opts["max"] or 0))
    for i, target in enumerate(targets):
        panel.with_target(target.ref_id(chr(ord("A") + i)))
    return panel


def graph(
    title: str, description: str, unit: str, *targets: Query, **opts: Unpack[Layout]
) -> PanelBuilder:
    """A time series of lines, half a row wide."""
    panel = (
        timeseries.Panel()
        .draw_style(common.GraphDrawStyle.LINE)
        .fill_opacity(10)
        .show_points(common.VisibilityMode.NEVER)
        .legend(
            common_sdk.VizLegendOptions()
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
    )
    return _panel(panel, title, description, unit, targets, opts)


def fraction(title: str, description: str, *targets: Query, **opts: Unpack[Layout]) -> PanelBuilder:
    """A time series of shares, drawn between 0 and 1 unless told otherwise."""
    opts.setdefault("min", 0)
    opts.setdefault("max", 1)
    return graph(title, description, "percentunit", *targets, **opts)


def stat(
    title: str, description: str, unit: str, *targets: Query, **opts: Unpack[Layout]
) -> PanelBuilder:
    """The last value as a tile, a quarter of a row wide and half a graph tall unless told."""
    opts.setdefault("width", 6)
    opts.setdefault("height", 4)
    panel = stat_sdk.Panel().reduce_options(
        common_sdk.ReduceDataOptions().calcs(["lastNotNull"]).fields("").values(False)
    )
    return _panel(panel, title, description, unit, targets, opts)


def problems(title: str, description: str, target: Query, **opts: Unpack[Layout]) -> PanelBuilder:
    """A tile counting what should not exist (expired, unexpected, changed): red from one."""
    opts["thresholds"] = RED_FROM_ONE
    return stat(title, description, "short", target, **opts)


def table(
    title: str, description: str, unit: str, *targets: Query, **opts: Unpack[Layout]
) -> PanelBuilder:
    """The current value of each series as one table row (instant queries)."""
    instant = [t.instant().format(prometheus_model.PromQueryFormat.TABLE) for t in targets]
    return _panel(table_sdk.Panel().show_header(True), title, description, unit, instant, opts)
