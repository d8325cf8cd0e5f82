"""Our /metrics against the real tools: `promtool check metrics` and a real Prometheus scrape."""

from __future__ import annotations

import gzip
import json
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from exporter.collectors.netstat import DEFAULT_FIELDS as NETSTAT_DEFAULT_FIELDS
from tests.conftest import PROMETHEUS_ACCEPT, require_binary
from tests.procs import free_port, prometheus_args, run_exporter, running

pytestmark = pytest.mark.integration


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=15) as r:
        return r.read(), dict(r.headers)


def promtool_problems(promtool: str, body: bytes) -> set[str]:
    """promtool's lint findings; fails the test on a parse error (exit code 1)."""
    out = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, timeout=60
    )
    text = (out.stdout + out.stderr).decode()
    assert out.returncode in (0, 3), text  # 3 = lint findings only, 1 = unparsable
    return {line for line in text.splitlines() if line.strip()}


def test_promtool_check_metrics_passes_on_default_output(tmp_path: Path) -> None:
    """Parsable, and no lint finding except those node_exporter's own names carry.

    node_exporter's compatible names (`node_memory_MemTotal_bytes`, ...) are camelCase, and
    promtool says so about node_exporter itself; we must keep those names, so those exact
    findings are allowed and nothing else is.
    """
    promtool = require_binary("promtool")
    node_exporter = require_binary("node_exporter")
    with run_exporter([], tmp_path) as proc:
        body, headers = fetch(f"http://127.0.0.1:{proc.port}/metrics")
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert b"node_cpu_seconds_total{" in body
    ours = promtool_problems(promtool, body)

    # node_exporter on its own default set too, with the latest release's netstat fields
    # (Debian's 1.5 predates two of them).
    port = free_port()
    node_args = [
        node_exporter,
        f"--web.listen-address=127.0.0.1:{port}",
        f"--collector.netstat.fields={NETSTAT_DEFAULT_FIELDS}",
    ]
    with running(node_args, tmp_path / "node_exporter.log", port=port):
        reference = promtool_problems(promtool, fetch(f"http://127.0.0.1:{port}/metrics")[0])
    assert all(line.startswith("node_") for line in ours), ours
    assert ours <= reference, ours - reference


def test_openmetrics_and_gzip_output_is_what_the_headers_say(tmp_path: Path) -> None:
    with run_exporter([], tmp_path) as proc:
        body, headers = fetch(
            f"http://127.0.0.1:{proc.port}/metrics",
            {"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip"},
        )
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
    text = gzip.decompress(body).decode()
    assert text.endswith("# EOF\n")
    assert "# TYPE node_cpu_seconds counter" in text


def _query(base: str, expr: str) -> list[dict[str, Any]]:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as r:
        data = json.load(r)
    assert data["status"] == "success"
    result: list[dict[str, Any]] = data["data"]["result"]
    return result


def test_real_prometheus_scrapes_the_exporter(tmp_path: Path) -> None:
    prometheus = require_binary("prometheus")
    with run_exporter([], tmp_path) as proc:
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: tocsin\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{proc.port}']\n"
        )
        port = free_port()
        prom_args = prometheus_args(prometheus, config, tmp_path / "tsdb", port)
        with running(prom_args, tmp_path / "prometheus.log", port=port):
            base = f"http://127.0.0.1:{port}"
            up: list[dict[str, Any]] = []
            cpu: list[dict[str, Any]] = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    up = _query(base, 'up{job="tocsin"}')
                    cpu = _query(base, 'node_cpu_seconds_total{job="tocsin",mode="idle"}')
                except OSError:
                    up, cpu = [], []
                if up and cpu:
                    break
                time.sleep(0.5)
            assert up, (tmp_path / "prometheus.log").read_text()
            assert up[0]["value"][1] == "1"
            assert cpu and float(cpu[0]["value"][1]) > 0
            assert {s["metric"]["cpu"] for s in cpu} >= {"0"}
            success = _query(base, 'tocsin_exporter_collector_success{collector="cpu"}')
            assert success and success[0]["value"][1] == "1"
