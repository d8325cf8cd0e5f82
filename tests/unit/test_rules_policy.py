"""Policy for rules/: annotations, severity, naming, runbook anchors, `for`, test coverage,
suggested fixes and dashboard links, the `cluster` label in every aggregation, and the
alert names the shipped inhibit rules use.

Every alert must fire in at least one promtool test (exact labels and annotations) and be
expected silent in at least one other (below threshold or before `for` has elapsed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "rules"
DASHBOARDS = REPO / "dashboards"
ALERTMANAGER = REPO / "deploy" / "alertmanager" / "alertmanager.yml"
RUNBOOK = RULES / "RUNBOOK.md"
RUNBOOK_BASE = "https://github.com/tocsin/tocsin/blob/main/rules/RUNBOOK.md#"
AREAS = {
    "host": "Host",
    "application": "App",
    "security": "Security",
    "pipeline": "Tocsin",
    "anomaly": "Anomaly",
    "forecast": "Forecast",
    "slo": "Slo",
}
SEVERITIES = {"critical", "warning", "info"}
RECORD_NAME = re.compile(r"^[a-z][a-z0-9_]*:[a-zA-Z_][a-zA-Z0-9_]*:[a-z0-9_]+$")
RANGE_FUNC = re.compile(r"\b(rate|irate|increase|delta|idelta|deriv)\s*\(([^()]*?)\[([0-9a-z]+)\]")
DURATION = re.compile(r"(\d+)([smhdwy])")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
SCRAPE_INTERVAL_SECONDS = 15


# Panels and the `cluster` variable the dashboards engineer adds (issue 17's contract);
# links may point at them before the dashboards land; once the committed JSON has them
# these entries change nothing and can go.
DASHBOARD_URL = re.compile(
    r"^/d/(?P<uid>[a-z0-9-]+)/(?P<slug>[a-z0-9-]+)\?viewPanel=(?P<panel>\d+)(?P<vars>(&var-[a-z]+=[^&]+)*)$"
)
CLUSTER_VAR = (
    "{{ with $labels.cluster }}{{ . | urlquery }}{{ else }}"
    "{{ $externalLabels.cluster | urlquery }}{{ end }}"
)
AGGREGATION = re.compile(r"\b(by|on)\s*\(([^)]*)\)")


def rule_files() -> list[Path]:
    return sorted(RULES.glob("*.rules.yml"))


def promtool_test_files() -> list[Path]:
    return sorted(RULES.glob("*_test.yml"))


def dashboards() -> dict[str, dict[str, Any]]:
    """Committed dashboard JSON by uid: title, panel ids, template variable names."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(DASHBOARDS.glob("*.json")):
        doc = json.loads(path.read_text())
        ids: set[int] = set()
        stack = list(doc.get("panels", []))
        while stack:
            panel = stack.pop()
            ids.add(panel["id"])
            stack.extend(panel.get("panels", []))
        names = {v["name"] for v in doc.get("templating", {}).get("list", [])}
        out[doc["uid"]] = {"title": doc["title"], "panels": ids, "variables": names}
    return out


def grafana_slug(title: str) -> str:
    """Grafana's URL slug of a dashboard title: lower case, runs of other characters → '-'."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def iter_rules() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in rule_files():
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                yield path, rule


def alerts() -> list[tuple[Path, dict[str, Any]]]:
    return [(p, r) for p, r in iter_rules() if "alert" in r]


def records() -> list[tuple[Path, dict[str, Any]]]:
    return [(p, r) for p, r in iter_rules() if "record" in r]


def seconds(duration: str) -> int:
    parts = DURATION.findall(duration)
    assert parts and "".join(n + u for n, u in parts) == duration, f"bad duration {duration!r}"
    return sum(int(n) * UNIT_SECONDS[u] for n, u in parts)


def github_anchors(markdown: str) -> set[str]:
    """Anchors GitHub generates for headings: lower case, punctuation dropped, spaces → '-'."""
    anchors = set()
    for line in markdown.splitlines():
        m = re.match(r"^#{1,6}\s+(.*)$", line)
        if m:
            text = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower())
            anchors.add(text.replace(" ", "-"))
    return anchors


def no_for_reasons(path: Path) -> dict[str, str]:
    """Alerts preceded by a `# no-for: reason` comment (the written reason for no `for`)."""
    reasons: dict[str, str] = {}
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^\s*-\s*alert:\s*(\w+)", line)
        if not m:
            continue
        j = i - 1
        comment: list[str] = []
        while j >= 0 and lines[j].strip().startswith("#"):
            comment.insert(0, lines[j].strip().lstrip("#").strip())
            j -= 1
        text = " ".join(comment)
        if text.startswith("no-for:") and len(text) > len("no-for:") + 10:
            reasons[m.group(1)] = text
    return reasons


def alert_tests() -> tuple[dict[str, list[dict[str, Any]]], set[str]]:
    """Alert name → firing expectations, and the names with a non-firing expectation."""
    firing: dict[str, list[dict[str, Any]]] = {}
    silent: set[str] = set()
    for path in promtool_test_files():
        doc = yaml.safe_load(path.read_text())
        for test in doc["tests"]:
            for case in test.get("alert_rule_test", []):
                expected = case.get("exp_alerts") or []
                if expected:
                    firing.setdefault(case["alertname"], []).extend(expected)
                else:
                    silent.add(case["alertname"])
    return firing, silent


def test_every_area_has_a_rule_file_and_a_test_file() -> None:
    for area in AREAS:
        assert (RULES / f"{area}.rules.yml").is_file(), area
        assert (RULES / f"{area}_test.yml").is_file(), area


def test_enough_alerts_and_recording_rules() -> None:
    assert len(alerts()) >= 25
    assert len(records()) >= 20


def test_alert_names_are_unique_camel_case_with_area_prefix() -> None:
    names = [r["alert"] for _, r in alerts()]
    assert len(names) == len(set(names)), "duplicate alert names"
    for path, rule in alerts():
        area = path.name.removesuffix(".rules.yml")
        name = rule["alert"]
        assert re.fullmatch(r"(?:[A-Z][a-z0-9]+)+[A-Za-z0-9]*", name), name
        assert name.startswith(AREAS[area]), f"{name} in {path.name} must start with {AREAS[area]}"


def test_recording_rules_follow_level_metric_operations() -> None:
    for _, rule in records():
        assert RECORD_NAME.match(rule["record"]), rule["record"]


@pytest.mark.parametrize("path", rule_files(), ids=lambda p: p.name)
def test_alerts_have_severity_annotations_and_runbook(path: Path) -> None:
    anchors = github_anchors(RUNBOOK.read_text())
    for p, rule in alerts():
        if p != path:
            continue
        name = rule["alert"]
        assert rule.get("labels", {}).get("severity") in SEVERITIES, name
        ann = rule.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            assert ann.get(key, "").strip(), f"{name}: missing {key}"
        url = ann["runbook_url"]
        assert url.startswith(RUNBOOK_BASE), f"{name}: runbook_url {url}"
        assert url.removeprefix(RUNBOOK_BASE) in anchors, f"{name}: no anchor in RUNBOOK.md"


@pytest.mark.parametrize("path", rule_files(), ids=lambda p: p.name)
def test_alerts_have_for_or_a_written_reason(path: Path) -> None:
    reasons = no_for_reasons(path)
    for p, rule in alerts():
        if p != path:
            continue
        if "for" in rule:
            assert seconds(rule["for"]) > 0, f"{rule['alert']}: `for: 0` needs a no-for reason"
        else:
            assert rule["alert"] in reasons, f"{rule['alert']}: no `for` and no `# no-for:` reason"


def test_range_windows_are_at_least_four_scrape_intervals() -> None:
    found = 0
    for _, rule in iter_rules():
        for func, _, window in RANGE_FUNC.findall(rule["expr"]):
            found += 1
            assert seconds(window) >= 4 * SCRAPE_INTERVAL_SECONDS, f"{func}[{window}] too short"
    assert found > 10


def test_rules_are_portable_between_prometheus_2_and_3() -> None:
    for _, rule in iter_rules():
        expr = rule["expr"]
        assert "holt_winters" not in expr and "double_exponential" not in expr
        # 3.x normalises `le`/`quantile` values to floats ("1" becomes "1.0").
        assert not re.search(r'\b(le|quantile)\s*=\s*"', expr), expr


def test_every_alert_fires_in_a_test_and_stays_silent_in_another() -> None:
    firing, silent = alert_tests()
    defined = {r["alert"]: r for _, r in alerts()}
    assert set(firing) <= set(defined), "tests name alerts that do not exist"
    for name, rule in defined.items():
        assert name in firing, f"{name} never fires in a test"
        # A watchdog (`vector(1)`) fires always, by design: there is no silent case.
        if rule["expr"].strip() != "vector(1)":
            assert name in silent, f"{name} has no test where it must not fire"
        for expected in firing[name]:
            labels = expected.get("exp_labels", {})
            assert labels.get("severity") == rule["labels"]["severity"], name
            assert set(expected.get("exp_annotations", {})) == set(rule["annotations"]), name


def test_test_files_point_at_existing_rule_files_and_fix_group_order() -> None:
    for path in promtool_test_files():
        doc = yaml.safe_load(path.read_text())
        groups = []
        for ref in doc["rule_files"]:
            assert (RULES / ref).is_file(), f"{path.name}: {ref}"
            groups += [g["name"] for g in yaml.safe_load((RULES / ref).read_text())["groups"]]
        # Without an explicit order promtool evaluates groups randomly: flaky values.
        assert doc.get("group_eval_order") == groups, path.name


def test_the_anchor_helper_matches_github() -> None:
    assert github_anchors("## HostCpuSaturated\n### SLO burn rates") == {
        "hostcpusaturated",
        "slo-burn-rates",
    }


@pytest.mark.parametrize("path", rule_files(), ids=lambda p: p.name)
def test_alerts_have_a_suggested_fix_of_two_or_three_checks(path: Path) -> None:
    for p, rule in alerts():
        if p != path:
            continue
        fix = rule["annotations"].get("suggested_fix", "").strip()
        assert fix, f"{rule['alert']}: missing suggested_fix"
        steps = [s for s in fix.rstrip(".").split(";") if s.strip()]
        assert 2 <= len(steps) <= 3, f"{rule['alert']}: {len(steps)} steps in suggested_fix"


@pytest.mark.parametrize("path", rule_files(), ids=lambda p: p.name)
def test_alerts_link_an_existing_dashboard_panel(path: Path) -> None:
    boards = dashboards()
    for p, rule in alerts():
        if p != path:
            continue
        name = rule["alert"]
        url = rule["annotations"].get("dashboard_url", "")
        m = DASHBOARD_URL.match(url.replace(CLUSTER_VAR, "CLUSTER"))
        assert m, f"{name}: dashboard_url {url!r} is not /d/<uid>/<slug>?viewPanel=<id>&var-..."
        uid, panel = m["uid"], int(m["panel"])
        assert uid in boards, f"{name}: no dashboard with uid {uid}"
        assert m["slug"] == grafana_slug(boards[uid]["title"]), f"{name}: slug {m['slug']}"
        assert panel in boards[uid]["panels"], f"{name}: {uid} has no panel {panel}"
        variables = dict(v.split("=", 1) for v in m["vars"].split("&var-")[1:])
        # The cluster comes from the series under a global ruler, from external_labels otherwise.
        assert variables.get("cluster") == "CLUSTER", f"{name}: var-cluster must be {CLUSTER_VAR}"
        for var, value in variables.items():
            assert var in boards[uid]["variables"], f"{name}: var-{var}"
            if var != "cluster":
                assert value == f"{{{{ $labels.{var} | urlquery }}}}", f"{name}: var-{var}={value}"


def test_every_aggregation_and_match_carries_cluster() -> None:
    found = 0
    for _, rule in iter_rules():
        for kind, labels in AGGREGATION.findall(rule["expr"]):
            names = {s.strip() for s in labels.split(",") if s.strip()}
            if kind == "on" and not names:
                continue  # `on ()`: a match against a single series (a guard)
            found += 1
            assert "cluster" in names, f"{kind} ({labels}) lacks cluster: {rule['expr']}"
        assert "absent(" not in rule["expr"], "absent() is not per cluster; see pipeline.rules.yml"
    assert found > 30


def test_inhibit_rules_name_existing_alerts() -> None:
    names = {r["alert"] for _, r in alerts()}
    cfg = yaml.safe_load(ALERTMANAGER.read_text())
    seen = 0
    for rule in cfg["inhibit_rules"]:
        assert "cluster" in rule["equal"], rule
        for matcher in rule.get("source_matchers", []) + rule.get("target_matchers", []):
            m = re.fullmatch(r'alertname(=~|=)"(.*)"', matcher)
            if not m:
                continue
            pattern = m[2] if m[1] == "=~" else re.escape(m[2])
            matched = {n for n in names if re.fullmatch(pattern, n)}
            assert matched, f"{matcher} matches no alert"
            assert "TocsinWatchdog" not in matched, "never inhibit the watchdog"
            seen += 1
    assert seen > 10
