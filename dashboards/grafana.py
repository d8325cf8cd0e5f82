"""Grafana's dashboard JSON model (schema 39): typed panels, rows and dashboards, and their JSON.

The datasource is always the `${datasource}` template variable, never a literal UID, so the
files import through the UI and through file provisioning alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

DS: dict[str, str] = {"type": "prometheus", "uid": "${datasource}"}
SCHEMA_VERSION = 39
GRID_WIDTH = 24


@dataclass
class Target:
    """One PromQL query of a panel."""

    expr: str
    legend: str = ""


@dataclass
class Panel:
    """A panel: a time series by default, a stat or table when asked."""

    title: str
    description: str
    unit: str
    targets: list[Target]
    kind: str = "timeseries"
    width: int = 12
    height: int = 8
    min: float | None = None
    max: float | None = None
    thresholds: Sequence[tuple[float, str]] = ()


@dataclass
class Row:
    """A titled row of panels."""

    title: str
    panels: list[Panel]


@dataclass(frozen=True)
class Variable:
    """A template variable listing a label's values, after the job and instance ones; one
    that is not `multi` holds a single value (for a query that needs exactly one, such as an
    `offset`)."""

    name: str
    label: str
    query: str
    multi: bool = True


@dataclass
class Dashboard:
    """A whole dashboard, written to `<name>.json` with the fixed uid `tocsin-<name>`, the title
    `tocsin / <title>` and the tags `tocsin` and `tag`; `job_metric` picks the series the
    job/instance variables list."""

    name: str
    title: str
    description: str
    tag: str
    rows: list[Row]
    job_metric: str = "up"
    variables: Sequence[Variable] = ()

    @property
    def uid(self) -> str:
        """The fixed uid links and provisioning keep pointing at."""
        return f"tocsin-{self.name}"

    @property
    def file_name(self) -> str:
        """The JSON file under dashboards/."""
        return f"{self.name}.json"


def query_variable(name: str, label: str, query: str, multi: bool = True) -> dict[str, Any]:
    """A template variable listing a label's values: multi-value with "All" selected, or
    single-value with the first value selected."""
    if not multi:
        return {
            "name": name,
            "label": label,
            "type": "query",
            "datasource": DS,
            "query": {"query": query, "refId": f"{name}-var"},
            "definition": query,
            "refresh": 2,
            "includeAll": False,
            "multi": False,
            "sort": 1,
            "current": {},
            "hide": 0,
        }
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DS,
        "query": {"query": query, "refId": f"{name}-var"},
        "definition": query,
        "refresh": 2,
        "includeAll": True,
        "allValue": ".*",
        "multi": True,
        "sort": 1,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "hide": 0,
    }


def variables(job_metric: str) -> list[dict[str, Any]]:
    """The datasource, job and instance template variables."""
    return [
        {
            "name": "datasource",
            "label": "Data source",
            "type": "datasource",
            "query": "prometheus",
            "refresh": 1,
            "current": {},
            "hide": 0,
        },
        query_variable("job", "Job", f"label_values({job_metric}, job)"),
        query_variable(
            "instance", "Instance", f'label_values({job_metric}{{job=~"$job"}}, instance)'
        ),
    ]


def field_defaults(panel: Panel) -> dict[str, Any]:
    """The panel's unit, thresholds (green below the first step), bounds and line style."""
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    steps += [{"color": color, "value": value} for value, color in panel.thresholds]
    defaults: dict[str, Any] = {
        "unit": panel.unit,
        "thresholds": {"mode": "absolute", "steps": steps},
    }
    if panel.min is not None:
        defaults["min"] = panel.min
    if panel.max is not None:
        defaults["max"] = panel.max
    if panel.kind == "timeseries":
        defaults["custom"] = {"drawStyle": "line", "fillOpacity": 10, "showPoints": "never"}
    return defaults


def panel_options(kind: str) -> dict[str, Any]:
    """Display options by panel type: a legend for time series, the last value for stats."""
    if kind == "stat":
        return {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}
    if kind == "table":
        return {"showHeader": True}
    return {"legend": {"displayMode": "list", "placement": "bottom"}}


def render_targets(panel: Panel) -> list[dict[str, Any]]:
    """The panel's queries, lettered A, B, ...; tables ask for an instant query."""
    targets = []
    for i, target in enumerate(panel.targets):
        item: dict[str, Any] = {
            "refId": chr(ord("A") + i),
            "datasource": DS,
            "expr": target.expr,
            "legendFormat": target.legend or "__auto",
        }
        if panel.kind == "table":
            item.update({"instant": True, "format": "table"})
        targets.append(item)
    return targets


def render_panel(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    """Grafana JSON for one panel at a grid position."""
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DS,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": field_defaults(panel), "overrides": []},
        "options": panel_options(panel.kind),
        "targets": render_targets(panel),
    }


def render_row(row: Row, row_id: int, y: int) -> dict[str, Any]:
    """Grafana JSON for a row header across the whole grid."""
    return {
        "id": row_id,
        "type": "row",
        "title": row.title,
        "collapsed": False,
        "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": y},
        "panels": [],
    }


def layout(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Every row and panel with ids and grid positions: left to right, rows top to bottom."""
    panels: list[dict[str, Any]] = []
    y = 0
    for row in rows:
        panels.append(render_row(row, len(panels) + 1, y))
        y += 1
        x = 0
        line_height = 0
        for panel in row.panels:
            if x + panel.width > GRID_WIDTH:
                x, y, line_height = 0, y + line_height, 0
            panels.append(render_panel(panel, len(panels) + 1, x, y))
            x += panel.width
            line_height = max(line_height, panel.height)
        y += line_height
    return panels


def render(dash: Dashboard) -> dict[str, Any]:
    """Grafana JSON for a whole dashboard."""
    return {
        "uid": dash.uid,
        "title": f"tocsin / {dash.title}",
        "description": dash.description,
        "tags": ["tocsin", dash.tag],
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "links": [
            {
                "title": "tocsin dashboards",
                "type": "dashboards",
                "tags": ["tocsin"],
                "asDropdown": True,
                "includeVars": True,
                "keepTime": True,
            }
        ],
        "templating": {
            "list": [
                *variables(dash.job_metric),
                *(query_variable(v.name, v.label, v.query, v.multi) for v in dash.variables),
            ]
        },
        "panels": layout(dash.rows),
    }
