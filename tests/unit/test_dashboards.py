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
        "$cluster": ".*",
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
    assert list(variables)[:4] == ["datasource", "cluster", "job", "instance"]
    for var in ("cluster", "job", "instance"):
        assert variables[var]["type"] == "query"
        assert variables[var]["includeAll"] is True
        assert variables[var]["current"]["value"] == ["$__all"]
    assert "cluster)" in variables["cluster"]["query"]["query"]
    assert '{cluster=~"$cluster"}' in variables["job"]["query"]["query"]
    assert '{cluster=~"$cluster", job=~"$job"}' in variables["instance"]["query"]["query"]
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


@pytest.mark.parametrize("name", sorted(EXPECTED_UIDS))
def test_every_query_filters_on_the_cluster_variable(name: str) -> None:
    for panel in panels(load(name)):
        for target in panel["targets"]:
            assert 'cluster=~"$cluster"' in target["expr"], f"{panel['title']}: {target['expr']}"


# The panels alerts' dashboard_url annotations point at (uid, panel id → a metric its queries
# read); these ids are pinned, like every existing one.
LINKED_PANELS = {
    "host-overview.json": {
        25: "node_timex_sync_status",
        26: "node_nf_conntrack_entries_limit",
        27: "node_network_receive_utilisation",
        28: "node_netstat_TcpExt_ListenDrops",
        29: "node_softnet_dropped",
        30: "node_hwmon_temp_crit_celsius",
        31: "node_md_disks",
        32: "node_edac_uncorrectable_errors_total",
        33: "node_systemd_unit_state",
        34: "node_filesystem_device_error",
    },
    "security-overview.json": {18: "tocsin_cert_read_errors_total"},
    "application.json": {19: 'outcome="unparsed"'},
    "alerting-pipeline.json": {
        20: "tocsin_receiver_time_to_acknowledge_seconds",
        21: "tocsin_receiver_time_to_resolve_seconds",
        22: "tocsin_receiver_webhook_processing_errors_total",
    },
}


@pytest.mark.parametrize("name", sorted(LINKED_PANELS))
def test_linked_panels_keep_their_ids(name: str) -> None:
    by_id = {p["id"]: p for p in load(name)["panels"]}
    for panel_id, metric in LINKED_PANELS[name].items():
        assert panel_id in by_id, f"{name}: no panel {panel_id}"
        exprs = " ".join(t["expr"] for t in by_id[panel_id]["targets"])
        assert metric in exprs, f"{name} panel {panel_id}: {metric} not in {exprs}"


def test_recorded_series_the_dashboards_read_are_recorded() -> None:
    rules = DASHBOARDS.parent / "rules"
    recorded = {
        rule["record"]
        for path in rules.glob("*.rules.yml")
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    used = {
        m for expr in all_exprs() for m in re.findall(r"\b[a-z_]+:[A-Za-z0-9_]+:[a-z0-9_]+", expr)
    }
    assert used, "the dashboards read no recorded series"
    assert used <= recorded, sorted(used - recorded)


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
