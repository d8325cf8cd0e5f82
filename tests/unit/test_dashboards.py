"""Dashboards: committed JSON equals the generator's output, and the portability rules hold."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards import generate
from tests.conftest import require_binary

DASHBOARDS = Path(generate.__file__).resolve().parent
EXPECTED_UIDS = {
    "host-overview.json": "tocsin-host-overview",
    "application.json": "tocsin-application",
    "security-overview.json": "tocsin-security-overview",
    "alerting-pipeline.json": "tocsin-alerting-pipeline",
    "forecast.json": "tocsin-forecast",
}
RANGE_FUNC = re.compile(r"\b(rate|irate|increase)\s*\([^()]*?\[([^\]]+)\]")


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DASHBOARDS / name).read_text())
    return data


def panels(dash: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dash["panels"]:
        if panel["type"] != "row":
            yield panel
        yield from panel.get("panels", [])


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def substitute(expr: str) -> str:
    """The query as Grafana would send it with every variable set to All."""
    values = {
        "$__rate_interval": "1m",
        "$job": ".*",
        "$instance": ".*",
        "$series": ".*",
        "$model": "holt_winters",
        "$horizon": "6h",
    }
    for var, value in values.items():
        expr = expr.replace(var, value)
    return expr


def all_exprs() -> list[str]:
    return [t["expr"] for name in EXPECTED_UIDS for p in panels(load(name)) for t in p["targets"]]


def test_committed_json_matches_the_generator() -> None:
    generated = generate.generate()
    assert set(generated) == set(EXPECTED_UIDS)
    for name, text in generated.items():
        assert (DASHBOARDS / name).read_text() == text, f"{name}: run python -m dashboards.generate"


def test_check_mode_reports_a_stale_file(tmp_path: Path) -> None:
    assert generate.main(["--out", str(tmp_path)]) == 0
    assert generate.main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "application.json").write_text("{}")
    assert generate.main(["--check", "--out", str(tmp_path)]) == 1


@pytest.mark.parametrize("name", sorted(EXPECTED_UIDS))
def test_stable_uid_title_and_tags(name: str) -> None:
    dash = load(name)
    assert dash["uid"] == EXPECTED_UIDS[name]
    assert dash["title"].startswith("tocsin / ")
    assert "tocsin" in dash["tags"]
    assert "id" not in dash, "an id makes imports collide; Grafana assigns it"


@pytest.mark.parametrize("name", sorted(EXPECTED_UIDS))
def test_datasource_variable_and_no_literal_uid(name: str) -> None:
    dash = load(name)
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for var in ("job", "instance"):
        assert variables[var]["type"] == "query"
        assert variables[var]["includeAll"] is True
    assert "$job" in variables["instance"]["definition"]
    for key, value in walk(dash):
        if key == "datasource" and isinstance(value, dict):
            if value.get("type") == "grafana":
                continue  # the built-in annotations source, the same on every Grafana
            assert value == {"type": "prometheus", "uid": "${datasource}"}, value
        if key == "datasource" and isinstance(value, str):
            pytest.fail(f"datasource given by name: {value}")


@pytest.mark.parametrize("name", sorted(EXPECTED_UIDS))
def test_panels_have_units_descriptions_and_variable_queries(name: str) -> None:
    dash = load(name)
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    found = list(panels(dash))
    assert len(found) >= 8
    for panel in found:
        title = panel["title"]
        assert panel["fieldConfig"]["defaults"].get("unit"), f"{title}: no unit"
        assert panel.get("description", "").strip(), f"{title}: no description"
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, title
        assert panel["targets"], title
        for target in panel["targets"]:
            expr = target["expr"]
            for func, window in RANGE_FUNC.findall(expr):
                assert window == "$__rate_interval", f"{title}: {func}[{window}]"


def test_rate_rule_catches_a_fixed_window() -> None:
    assert RANGE_FUNC.findall('rate(x{a="b"}[5m])') == [("rate", "5m")]


def test_required_content() -> None:
    app = json.dumps(load("application.json"))
    for q in ("histogram_quantile(0.5,", "histogram_quantile(0.95,", "histogram_quantile(0.99,"):
        assert q in app
    for metric in ("tocsin_probe_success", "tocsin_process_count"):
        assert metric in app
    pipeline = json.dumps(load("alerting-pipeline.json"))
    for metric in (
        "tocsin_exporter_collector_success",
        "tocsin_receiver_notifications_total",
        "tocsin_receiver_outbox_pending",
        "tocsin_receiver_escalations_total",
        "tocsin_receiver_dead_letters",
    ):
        assert metric in pipeline


def test_every_query_parses_with_promtool(tmp_path: Path) -> None:
    """promtool parses each query (variables substituted) as a recording rule expression."""
    rules = [
        {"record": f"dashboard:query_{i}:check", "expr": substitute(expr)}
        for i, expr in enumerate(all_exprs())
    ]
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(
        [require_binary("promtool"), "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
