"""The forecast collector end to end with a real Prometheus: series backfilled with
`promtool tsdb create-blocks-from openmetrics`, read back through Prometheus' API,
forecast and scored by the exporter, scraped by the same Prometheus, and the alerts of
rules/forecast.rules.yml firing in `promtool test rules` on what Prometheus recorded.

The same stack holds the failure cases: a query that returns nothing, a series with gaps
and NaN, and a model that cannot fit (no data in its first season); a second exporter
points at a closed port for "Prometheus unreachable".
"""

from __future__ import annotations

import json
import math
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from dashboards import generate
from tests.conftest import require_binary
from tests.procs import ExporterProcess, free_port, prometheus_args, run_exporter, running
from tests.seasonal_series import openmetrics, seasonal

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RULES = Path(__file__).resolve().parents[2] / "rules"
STEP = 300.0
POINTS = 3 * 288  # three days backfilled; the collector reads the last two
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _series(end: float) -> str:
    """The backfilled series, all ending at `end`, as one OpenMetrics file."""
    start = end - (POINTS - 1) * STEP
    load = seasonal(POINTS, STEP, seed=3, daily=10.0, weekly=0.0).values
    load[-6:] += 30.0  # a level shift over the last half hour: anomalous
    t = start + np.arange(POINTS) * STEP
    # Free bytes falling to 0 three hours after `end`: forecast to fill within 6h.
    root_fs = 2e8 * (end + 3 * 3600 - t) / 3600 + seasonal(POINTS, STEP, seed=4).values * 1e5
    rng = np.random.default_rng(5)
    gappy = seasonal(POINTS, STEP, seed=6).values
    gappy[rng.choice(POINTS, POINTS // 10, replace=False)] = math.nan
    late = seasonal(POINTS, STEP, seed=7).values
    late[: POINTS - 240] = math.nan  # only the last 20 hours: no data in the first day read
    parts = [
        openmetrics("tocsin_test_load", load, start, STEP),
        openmetrics("tocsin_test_root_fs_avail_bytes", root_fs, start, STEP),
        openmetrics("tocsin_test_gappy", gappy, start, STEP),
        openmetrics("tocsin_test_late", [v for v in late if not math.isnan(v)],
                    end - 239 * STEP, STEP),
    ]  # fmt: skip
    return "".join(p.removesuffix("# EOF\n") for p in parts) + "# EOF\n"


def _collector_config(prometheus_url: str, infer_every: str) -> dict[str, Any]:
    def series(name: str, query: str, **extra: Any) -> dict[str, Any]:
        return {"name": name, "query": query, **extra}

    return {
        "collectors": {
            "forecast": {
                "prometheus": {"url": prometheus_url, "timeout": "10s"},
                "step": "5m",
                "history": "2d",
                "fit_every": "1h",
                "infer_every": infer_every,
                "horizons": ["1h", "6h"],
                "max_missing_ratio": 0.6,
                "series": [
                    series("load", "tocsin_test_load"),
                    series("root_fs", "tocsin_test_root_fs_avail_bytes", below=0),
                    series("gappy", "tocsin_test_gappy"),
                    series("late", "tocsin_test_late", models=["holt_winters", "robust_zscore"]),
                    series("absent", "tocsin_test_absent"),
                ],
            }
        }
    }


def _get(url: str) -> Any:
    with _DIRECT.open(url, timeout=10) as r:
        return json.load(r)


def _query(base: str, expr: str) -> list[dict[str, Any]]:
    data = _get(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    assert data["status"] == "success"
    result: list[dict[str, Any]] = data["data"]["result"]
    return result


def _wait(what: str, check: Callable[[], bool], timeout: float, log: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{log()[-4000:]}")


@dataclass
class Stack:
    base: str
    exporter: ExporterProcess
    tmp: Path

    def query(self, expr: str) -> list[dict[str, Any]]:
        return _query(self.base, expr)

    def value(self, expr: str) -> float:
        result = self.query(expr)
        assert len(result) == 1, (expr, result)
        return float(result[0]["value"][1])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    prometheus = require_binary("prometheus")
    promtool = require_binary("promtool")
    tmp = tmp_path_factory.mktemp("forecast")
    end = math.floor(time.time() / STEP) * STEP
    (tmp / "series.om").write_text(_series(end))
    tsdb = tmp / "tsdb"
    backfill = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(tmp / "series.om"), str(tsdb)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    prom_port = free_port()
    base = f"http://127.0.0.1:{prom_port}"
    config = tmp / "exporter.yml"
    config.write_text(yaml.safe_dump(_collector_config(base, "2s")))
    args = ["--collector.disable-defaults", "--collector.forecast", "--collector.time"]
    with run_exporter([f"--config.file={config}", *args], tmp) as exporter:
        (tmp / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: tocsin-exporter\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{exporter.port}']\n"
        )
        prom = prometheus_args(prometheus, tmp / "prometheus.yml", tsdb, prom_port)
        with running(prom, tmp / "prometheus.log", port=prom_port):
            s = Stack(base, exporter, tmp)
            _wait(
                "Prometheus to scrape forecasts and scores",
                lambda: bool(
                    s.query('tocsin_anomaly_score{series="load",model="holt_winters"}')
                    and s.query('tocsin_forecast{series="root_fs",model="holt_winters"}')
                    and s.query('tocsin_forecast_fit_errors_total{series="late"} > 0')
                ),
                120,
                exporter.log,
            )
            yield s


def _lines(log: str, event: str, **fields: str) -> list[str]:
    return [
        line
        for line in log.splitlines()
        if f"event={event}" in line and all(f"{k}={v}" in line for k, v in fields.items())
    ]


def test_the_backfilled_series_comes_back_as_forecast_and_score(stack: Stack) -> None:
    score = stack.value('tocsin_anomaly_score{series="load",model="holt_winters"}')
    assert score > 1, "the level shift over the last half hour is anomalous"
    bands = {
        (r["metric"]["horizon"], r["metric"]["bound"]): float(r["value"][1])
        for r in stack.query('tocsin_forecast{series="root_fs",model="holt_winters"}')
    }
    assert set(bands) == {(h, b) for h in ("1h", "6h") for b in ("yhat", "lower", "upper")}
    for horizon in ("1h", "6h"):
        assert bands[horizon, "lower"] < bands[horizon, "yhat"] < bands[horizon, "upper"]
    # 2e8 bytes an hour from 6e8 left: about 4e8 in 1h, below 0 in 6h.
    assert 2e8 < bands["1h", "yhat"] < 6e8
    assert bands["6h", "yhat"] < 0
    assert stack.value('tocsin_forecast_limit{series="root_fs",side="below"}') == 0
    fit = stack.value('tocsin_forecast_fit_duration_seconds{series="load",model="holt_winters"}')
    assert 0 < fit < 30
    assert stack.value(
        'tocsin_forecast_last_fit_timestamp_seconds{series="load",model="spike"}'
    ) > (time.time() - 3600)
    assert stack.value('tocsin_forecast_model_available{model="holt_winters"}') == 1
    assert stack.value('tocsin_forecast_observed{series="load"}') > 100  # shifted by 30


def test_the_alerts_fire_in_promtool_on_the_recorded_output(stack: Stack) -> None:
    """What Prometheus recorded from the exporter becomes the input of a promtool test of
    rules/forecast.rules.yml: the anomaly and the forecast breach fire on it."""
    promtool = require_binary("promtool")
    wanted = [
        'tocsin_anomaly_score{series="load",model="holt_winters"}',
        'tocsin_forecast{series="root_fs",model="holt_winters",bound="yhat",horizon="6h"}',
        'tocsin_forecast_limit{series="root_fs"}',
    ]
    inputs, recorded = [], {}
    for expr in wanted:
        for sample in stack.query(expr):
            labels = sample["metric"]
            name = labels.pop("__name__")
            text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
            inputs.append({"series": f"{name}{{{text}}}", "values": f"{sample['value'][1]}x60"})
            recorded[name] = (labels, float(sample["value"][1]))
    score_labels, score = recorded["tocsin_anomaly_score"]
    fs_labels, fs = recorded["tocsin_forecast"]
    instance = score_labels["instance"]
    test = {
        "rule_files": [str(RULES / "forecast.rules.yml")],
        "group_eval_order": ["forecast.alerts"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": inputs,
                "alert_rule_test": [
                    {
                        "alertname": "ForecastAnomalyScoreHigh",
                        "eval_time": "6m",
                        "exp_alerts": [
                            {
                                "exp_labels": {**score_labels, "severity": "warning"},
                                "exp_annotations": {
                                    "summary": "load looks anomalous to the holt_winters model.",
                                    "description": f"The holt_winters model scores load on "
                                    f"{instance} at {score:.2f} (above 1 is anomalous).",
                                    "runbook_url": _runbook("forecastanomalyscorehigh"),
                                    **_fix_and_link("ForecastAnomalyScoreHigh", score_labels),
                                },
                            }
                        ],
                    },
                    {
                        "alertname": "ForecastLimitBreach",
                        "eval_time": "31m",
                        "exp_alerts": [
                            {
                                "exp_labels": {**fs_labels, "severity": "warning"},
                                "exp_annotations": {
                                    "summary": "root_fs is forecast to cross its limit within 6h.",
                                    "description": f"The holt_winters forecast of root_fs on "
                                    f"{instance} is {_go_g4(fs)} 6h ahead, past its configured "
                                    "limit.",
                                    "runbook_url": _runbook("forecastlimitbreach"),
                                    **_fix_and_link("ForecastLimitBreach", fs_labels),
                                },
                            }
                        ],
                    },
                ],
            }
        ],
    }
    path = stack.tmp / "recorded_test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    result = subprocess.run(
        [promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr + path.read_text()


def _runbook(anchor: str) -> str:
    return f"https://github.com/tocsin/tocsin/blob/main/rules/RUNBOOK.md#{anchor}"


def _fix_and_link(alert: str, labels: dict[str, str]) -> dict[str, str]:
    """The rule's suggested_fix, and its dashboard_url as Prometheus renders it for
    `labels` (no cluster label and no external labels here: an empty var-cluster)."""
    doc = yaml.safe_load((RULES / "forecast.rules.yml").read_text())
    rule = next(r for g in doc["groups"] for r in g["rules"] if r.get("alert") == alert)
    url = rule["annotations"]["dashboard_url"]
    url = url.replace(
        "{{ with $labels.cluster }}{{ . | urlquery }}{{ else }}"
        "{{ $externalLabels.cluster | urlquery }}{{ end }}",
        "",
    )
    for name in ("job", "instance"):
        value = urllib.parse.quote_plus(labels[name])
        url = url.replace(f"{{{{ $labels.{name} | urlquery }}}}", value)
    return {"suggested_fix": rule["annotations"]["suggested_fix"], "dashboard_url": url}


def _go_g4(value: float) -> str:
    """Go's %.4g: like Python's, but with at least two exponent digits (the same)."""
    return f"{value:.4g}"


def test_an_empty_answer_gives_a_metric_and_one_log_line(stack: Stack) -> None:
    empty = 'tocsin_forecast_series_errors_total{series="absent",reason="empty"}'
    _wait("three rounds", lambda: stack.value(empty) >= 3, 60, stack.exporter.log)
    assert stack.value('tocsin_forecast_query_success{series="absent"}') == 0
    assert not stack.query('tocsin_forecast{series="absent"}')
    # (The exporter may have started before Prometheus listened: that was "unreachable".)
    lines = _lines(stack.exporter.log(), "forecast_query_failed", series="absent", reason="empty")
    assert len(lines) == 1, lines


def test_gaps_and_nan_give_a_metric_and_one_log_line_and_still_a_forecast(stack: Stack) -> None:
    missing = stack.value('tocsin_forecast_series_missing_ratio{series="gappy"}')
    assert 0.05 < missing < 0.2
    assert stack.query('tocsin_forecast{series="gappy",model="holt_winters",bound="yhat"}')
    time.sleep(5)  # a few more rounds with the same gaps
    lines = _lines(stack.exporter.log(), "forecast_series_gaps", series="gappy")
    assert len(lines) == 1, lines


def test_a_model_that_cannot_fit_gives_a_metric_and_one_log_line(stack: Stack) -> None:
    errors = 'tocsin_forecast_fit_errors_total{series="late",model="holt_winters"}'
    _wait("three failed rounds", lambda: stack.value(errors) >= 3, 60, stack.exporter.log)
    assert not stack.query('tocsin_forecast{series="late",model="holt_winters"}')
    # The other model on the same series, and the other series, are unaffected.
    assert stack.query('tocsin_anomaly_score{series="late",model="robust_zscore"}')
    lines = _lines(stack.exporter.log(), "forecast_fit_failed", series="late")
    assert len(lines) == 1 and "model=holt_winters" in lines[0], lines
    assert "first season holds no data" in lines[0]


def test_the_forecast_dashboard_queries_return_data(stack: Stack) -> None:
    """Every query of dashboards/forecast.json, variables set as Grafana would, runs on
    this stack and returns data; the band drawn one horizon back cannot have any yet."""
    values = {
        "$__rate_interval": "1m",
        "$cluster": ".*",
        "$job": ".*",
        "$instance": ".*",
        "$series": ".*",
        "$model": "holt_winters",
        "$horizon": "1h",
    }
    dash = json.loads(generate.generate()["forecast.json"])
    queries = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    assert len(queries) >= 15
    empty = []
    for expr in queries:
        for var, value in values.items():
            expr = expr.replace(var, value)
        if not stack.query(expr) and "offset 1h" not in expr:
            empty.append(expr)
    assert empty == []


def test_promtool_finds_nothing_to_lint_in_the_forecast_metrics(stack: Stack) -> None:
    url = f"http://127.0.0.1:{stack.exporter.port}/metrics"
    with _DIRECT.open(url, timeout=10) as r:
        body = r.read()
    assert b"tocsin_forecast{" in body and b"tocsin_anomaly_score{" in body
    result = subprocess.run(
        [require_binary("promtool"), "check", "metrics"], input=body, capture_output=True
    )
    assert result.returncode == 0, (result.stdout + result.stderr).decode()


def test_the_rest_of_the_exporter_is_unaffected(stack: Stack) -> None:
    assert stack.value('tocsin_exporter_collector_success{collector="forecast"}') == 1
    assert stack.value('tocsin_exporter_collector_success{collector="time"}') == 1
    assert stack.query("node_time_seconds")


def test_prometheus_unreachable_gives_a_metric_and_one_log_line(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    config = tmp_path / "exporter.yml"
    settings = _collector_config(closed, "500ms")
    # ... and a model that does not exist: reported, the others run.
    odd = {"name": "odd", "query": "up", "models": ["holt_winters", "no_such_model"]}
    settings["collectors"]["forecast"]["series"].append(odd)
    config.write_text(yaml.safe_dump(settings))
    args = ["--collector.disable-defaults", "--collector.forecast", "--collector.time"]
    with run_exporter([f"--config.file={config}", *args], tmp_path) as exporter:
        url = f"http://127.0.0.1:{exporter.port}/metrics"

        def metrics() -> str:
            with _DIRECT.open(url, timeout=10) as r:
                return str(r.read().decode())

        unreachable = 'tocsin_forecast_series_errors_total{reason="unreachable",series="load"}'

        def rounds() -> float:
            for line in metrics().splitlines():
                if line.startswith(unreachable):
                    return float(line.split()[-1])
            return 0.0

        _wait("three failed rounds", lambda: rounds() >= 3, 60, exporter.log)
        body = metrics()
        assert 'tocsin_forecast_query_success{series="load"} 0.0' in body
        assert 'tocsin_exporter_collector_success{collector="forecast"} 1.0' in body
        assert 'tocsin_exporter_collector_success{collector="time"} 1.0' in body
        assert "node_time_seconds " in body
        lines = _lines(exporter.log(), "forecast_query_failed", series="load")
        assert len(lines) == 1 and "reason=unreachable" in lines[0], lines
        assert 'tocsin_forecast_model_available{model="no_such_model"} 0.0' in body
        assert 'tocsin_forecast_model_available{model="holt_winters"} 1.0' in body
        (line,) = _lines(exporter.log(), "forecast_model_unavailable", model="no_such_model")
        assert "unknown model (known: " in line
