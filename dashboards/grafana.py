"""Dashboards assembled with Grafana's own SDK (`grafana-foundation-sdk`): rows of panel
builders laid out on the grid, the template variables, and the dashboard's JSON.

The datasource is always the `${datasource}` template variable, never a literal UID, so the
files import through the UI and through file provisioning alike.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from grafana_foundation_sdk.builders import dashboard as sdk
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as model

DS = model.DataSourceRef(type_val="prometheus", uid="${datasource}")
GRID_WIDTH = 24
DEFAULT_WIDTH = 12
DEFAULT_HEIGHT = 8
PanelBuilder = Builder[model.Panel]


@dataclass
class Row:
    """A titled row of panels. Its id and the panels' ids are given where a panel was added
    after ids were pinned; the others are numbered in layout order (see `layout`)."""

    title: str
    panels: list[PanelBuilder]
    id: int | None = None


@dataclass(frozen=True)
class Variable:
    """A template variable listing a label's values, after the cluster, job and instance
    ones; one that is not `multi` holds a single value (for a query that needs exactly one,
    such as an `offset`)."""

    name: str
    label: str
    query: str
    multi: bool = True


@dataclass
class Dashboard:
    """A whole dashboard, written to `<name>.json` with the fixed uid `tocsin-<name>`, the title
    `tocsin / <title>` and the tags `tocsin` and `tag`; `job_metric` picks the series the
    cluster/job/instance variables list."""

    name: str
    title: str
    description: str
    tag: str
    rows: list[Row]
    job_metric: str = "up"
    variables: Sequence[Variable] = field(default_factory=tuple)

    @property
    def uid(self) -> str:
        """The fixed uid links, alerts' `dashboard_url` and provisioning keep pointing at."""
        return f"tocsin-{self.name}"

    @property
    def file_name(self) -> str:
        """The JSON file under dashboards/."""
        return f"{self.name}.json"


def query_variable(name: str, label: str, query: str, multi: bool = True) -> sdk.QueryVariable:
    """A template variable listing a label's values: multi-value with "All" selected, or
    single-value with the first value selected."""
    var = (
        sdk.QueryVariable(name)
        .label(label)
        .datasource(DS)
        .query({"query": query, "refId": f"{name}-var"})
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
        .multi(multi)
        .include_all(multi)
    )
    if multi:
        var.all_value(".*").current(
            model.VariableOption(selected=True, text=["All"], value=["$__all"])
        )
    return var


def variables(job_metric: str) -> list[Builder[model.VariableModel]]:
    """The datasource, cluster, job and instance template variables, each narrowed by the
    ones before it. A series without a `cluster` label (one Prometheus, no external label)
    matches All, whose value is `.*`."""
    return [
        sdk.DatasourceVariable("datasource").label("Data source").type("prometheus"),
        query_variable("cluster", "Cluster", f"label_values({job_metric}, cluster)"),
        query_variable("job", "Job", f'label_values({job_metric}{{cluster=~"$cluster"}}, job)'),
        query_variable(
            "instance",
            "Instance",
            f'label_values({job_metric}{{cluster=~"$cluster", job=~"$job"}}, instance)',
        ),
    ]


def _place(item: Any, item_id: int, x: int, y: int, width: int, height: int) -> None:
    """Give a built row or panel its id and grid position."""
    item.id_val = item_id
    item.grid_pos = model.GridPos(h=height, w=width, x=x, y=y)


def layout(rows: Sequence[Row]) -> list[Any]:
    """Every row and panel with ids and grid positions: left to right, rows top to bottom.
    Panels without a pinned id are numbered 1, 2, ... in layout order, skipping none, as
    they were before ids were pinned; pinned ids keep adding a panel from renumbering others.
    """
    items: list[Any] = []
    next_id = 1
    y = 0

    def number(pinned: int | None) -> int:
        nonlocal next_id
        if pinned is not None:
            return pinned
        next_id += 1
        return next_id - 1

    for row in rows:
        built_row = sdk.Row(row.title).collapsed(False).build()
        _place(built_row, number(row.id), 0, y, GRID_WIDTH, 1)
        items.append(built_row)
        y += 1
        x = 0
        line_height = 0
        for builder in row.panels:
            panel = builder.build()
            size = panel.grid_pos or model.GridPos()
            width = size.w if size.w else DEFAULT_WIDTH
            height = size.h if size.h else DEFAULT_HEIGHT
            if x + width > GRID_WIDTH:
                x, y, line_height = 0, y + line_height, 0
            _place(panel, number(panel.id_val), x, y, width, height)
            items.append(panel)
            x += width
            line_height = max(line_height, height)
        y += line_height
    ids = [item.id_val for item in items]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"panel ids used twice: {duplicates}")
    return items


def build(dash: Dashboard) -> model.Dashboard:
    """The dashboard as the SDK's model."""
    board = (
        sdk.Dashboard(f"tocsin / {dash.title}")
        .uid(dash.uid)
        .description(dash.description)
        .tags(["tocsin", dash.tag])
        .editable()
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .version(1)
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("browser")
        .link(
            sdk.DashboardLink("tocsin dashboards")
            .type(model.DashboardLinkType.DASHBOARDS)
            .tags(["tocsin"])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
        .variables(
            [
                *variables(dash.job_metric),
                *(query_variable(v.name, v.label, v.query, v.multi) for v in dash.variables),
            ]
        )
        .build()
    )
    board.panels = layout(dash.rows)
    return board


def to_json(dash: Dashboard) -> str:
    """The dashboard as its committed file holds it: sorted keys, two-space indent."""
    return json.dumps(build(dash), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"
