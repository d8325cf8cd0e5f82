"""The forecast collector's plain parts: its config section through the shared loader, the
grid a query_range answer becomes, the Prometheus client against a real local server
(HTTP and HTTPS, bearer and basic auth, hostile answers), and numpy staying unloaded."""

from __future__ import annotations

import json
import math
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import web

from exporter.collectors.forecast import ForecastCollector
from exporter.config import load_config
from exporter.forecast.config import BasicAuth, PrometheusConfig, TLSConfig
from exporter.forecast.prometheus_api import PrometheusAPI, QueryError, RangeQuery
from exporter.forecast.results import horizon_label
from exporter.forecast.series import MAX_FILL_STEPS, to_grid
from servicekit.problems import ConfigError
from servicekit.values import Secret
from tests.conftest import self_signed_cert
from tests.procs import REPO

KNOWN = {"forecast": ForecastCollector}
SEEN = web.AppKey("seen", list[web.Request])
ANSWER = web.AppKey("answer", list[tuple[int, bytes]])


def _config_problems(tmp_path: Path, text: str) -> str:
    path = tmp_path / "exporter.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path, KNOWN)
    return str(err.value)


def test_bad_config_names_every_field_and_never_the_secret(tmp_path: Path) -> None:
    text = _config_problems(
        tmp_path,
        """
collectors:
  forecast:
    prometheus:
      url: ftp://prometheus
      bearer_token: s3cr3t-token
      basic_auth: {username: u, password: hunter2}
    horizons: [6h, 6h]
    series:
      - {name: "with space", query: up}
      - {name: a, query: ""}
      - {name: a, query: x, below: 5, above: 1}
""",
    )
    for key in (
        "collectors.forecast.prometheus.url: expected an http:// or https:// URL",
        "collectors.forecast.prometheus.bearer_token: use either bearer_token or basic_auth",
        "collectors.forecast.horizons: a horizon is listed twice",
        "collectors.forecast.series[0].name",
        "collectors.forecast.series[1].query",
        "collectors.forecast.series[2].below: below must be less than above",
        "collectors.forecast.series: series name 'a' is used twice",
    ):
        assert key in text, (key, text)
    assert "s3cr3t-token" not in text and "hunter2" not in text


def test_bad_values_are_named(tmp_path: Path) -> None:
    text = _config_problems(
        tmp_path, "collectors:\n  forecast:\n    step: 0s\n    confidence: 2\n    workers: 0\n"
    )
    for key in ("step", "confidence", "workers"):
        assert f"collectors.forecast.{key}: " in text, (key, text)


def test_memory_bounds_are_checked_at_load(tmp_path: Path) -> None:
    series = "\n".join(f"      - {{name: s{i}, query: up}}" for i in range(3))
    text = _config_problems(
        tmp_path,
        f"collectors:\n  forecast:\n    max_series: 2\n    history: 100d\n    series:\n{series}\n",
    )
    assert "collectors.forecast.series: 3 series, max_series is 2" in text
    assert "collectors.forecast.history: history/step is 28800 points, max_points is 12000" in text


def test_secrets_load_from_files_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "token").write_text("from-a-file\n")
    monkeypatch.setenv("PROM_PASSWORD", "from-env")
    path = tmp_path / "exporter.yml"
    path.write_text(
        "collectors:\n  forecast:\n    prometheus:\n      url: https://p:9090\n"
        "      basic_auth: {username: u, password: '${PROM_PASSWORD}'}\n"
        "    series: [{name: s, query: up}]\n"
        "  other: {}\n"
    )
    with pytest.raises(ConfigError):  # `other` is unknown; the forecast section still loads
        load_config(path, KNOWN)
    path.write_text(path.read_text().replace("  other: {}\n", ""))
    cfg = load_config(path, KNOWN).collectors["forecast"].config
    assert cfg.prometheus.basic_auth.password.reveal() == "from-env"
    assert "from-env" not in repr(cfg)
    path.write_text("collectors:\n  forecast:\n    prometheus:\n      bearer_token_file: token\n")
    cfg = load_config(path, KNOWN).collectors["forecast"].config
    assert cfg.prometheus.bearer_token.reveal() == "from-a-file"


def test_a_grid_marks_missing_and_nan_points_and_fills_only_short_gaps() -> None:
    step, start = 300.0, 1_000_000.0
    present = [i for i in range(100) if not (10 <= i < 13 or 40 <= i < 60)]
    samples = [(start + i * step, float(i)) for i in present]
    samples[0] = (start, math.nan)
    samples.append((start + 500 * step, 1.0))  # outside the window: dropped
    grid = to_grid(samples, start, step, 100)
    assert grid.missing == pytest.approx((3 + 20 + 1) / 100)
    assert np.allclose(grid.values[10:13], [10, 11, 12])  # interpolated
    assert MAX_FILL_STEPS < 20 and np.isnan(grid.values[40:60]).all()
    assert np.isnan(grid.values[0])
    assert grid.last == 99.0
    stale = to_grid(samples[:30], start, step, 100)
    assert stale.last is None


def test_horizon_labels_are_prometheus_durations() -> None:
    assert [horizon_label(s) for s in (21600, 172800, 5400, 45)] == ["6h", "48h", "90m", "45s"]


def test_numpy_is_loaded_only_when_the_forecast_collector_starts() -> None:
    """Every collector module imported and the default collectors run once: no numpy."""
    code = (
        "import sys\n"
        "from exporter import discovery\n"
        "from exporter.collector import CollectorContext\n"
        "for cls in discovery.available().values():\n"
        "    if cls.default_enabled or cls.name == 'forecast':\n"
        "        try:\n"
        "            list(cls(CollectorContext()).collect())\n"
        "        except Exception:\n"  # a source absent here (bcache, zfs, ...)
        "            pass\n"
        "print('numpy' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# --- the Prometheus client against a real local server ---------------------------------


@dataclass
class Server:
    url: str
    tls_url: str
    ca: Path
    app: web.Application


async def _query_range(request: web.Request) -> web.Response:
    request.app[SEEN].append(request)
    await request.post()
    status, body = request.app[ANSWER][0]
    return web.Response(status=status, body=body, content_type="application/json")


def _matrix(*series: list[list[Any]]) -> bytes:
    result = [{"metric": {}, "values": values} for values in series]
    return json.dumps(
        {"status": "success", "data": {"resultType": "matrix", "result": result}}
    ).encode()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    cert, key = self_signed_cert(tmp_path)
    app = web.Application()
    app[SEEN] = []
    app[ANSWER] = [(200, _matrix([[1.0, "1"], [2.0, "NaN"]]))]
    app.router.add_post("/api/v1/query_range", _query_range)
    runner = web.AppRunner(app)
    await runner.setup()
    plain = web.TCPSite(runner, "127.0.0.1", 0)
    await plain.start()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    secure = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
    await secure.start()
    ports = [address[1] for address in runner.addresses]
    yield Server(f"http://127.0.0.1:{ports[0]}", f"https://127.0.0.1:{ports[1]}", cert, app)
    await runner.cleanup()


async def _ask(cfg: PrometheusConfig) -> list[tuple[float, float]]:
    api = PrometheusAPI(cfg)
    try:
        return await api.query_range(RangeQuery("up", 0.0, 600.0, 300.0))
    finally:
        await api.close()


async def test_bearer_token_and_form_parameters_are_sent(server: Server) -> None:
    got = await _ask(PrometheusConfig(url=server.url, bearer_token=Secret("tok")))
    assert got[0] == (1.0, 1.0) and math.isnan(got[1][1])
    (request,) = server.app[SEEN]
    assert request.headers["Authorization"] == "Bearer tok"
    form = await request.post()
    assert dict(form) == {"query": "up", "start": "0.0", "end": "600.0", "step": "300.0"}


async def test_basic_auth_over_tls_with_the_servers_ca(server: Server) -> None:
    cfg = PrometheusConfig(
        url=server.tls_url,
        basic_auth=BasicAuth("user", Secret("pw")),
        tls=TLSConfig(ca_file=server.ca),
    )
    assert len(await _ask(cfg)) == 2
    assert server.app[SEEN][0].headers["Authorization"].startswith("Basic ")


async def test_an_unknown_ca_is_unreachable_and_the_error_has_no_secret(server: Server) -> None:
    cfg = PrometheusConfig(url=server.tls_url, bearer_token=Secret("hidden-token"))
    with pytest.raises(QueryError) as err:
        await _ask(cfg)
    assert err.value.reason == "unreachable"
    assert "certificate" in str(err.value).lower() and "hidden-token" not in str(err.value)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ((200, b"<html>"), "bad_response"),
        ((400, b'{"status":"error","error":"parse error at char 3"}'), "http_error"),
        ((503, b"upstream down"), "http_error"),
        ((200, _matrix()), "empty"),
        ((200, _matrix([], [])), "not_one_series"),
        ((200, _matrix([[1.0, "one"]])), "bad_response"),
        ((200, _matrix([["+Inf", "1"]])), "bad_response"),
        ((200, b'{"status":"success","data":{"resultType":"vector","result":[]}}'), "bad_response"),
        ((200, b"[" + b"1," * 200_000 + b"1]"), "too_large"),
    ],
)
async def test_hostile_answers_are_classified(
    server: Server, answer: tuple[int, bytes], reason: str
) -> None:
    server.app[ANSWER][0] = answer
    with pytest.raises(QueryError) as err:
        await _ask(PrometheusConfig(url=server.url, max_response_bytes=100_000))
    assert err.value.reason == reason
    if reason == "http_error" and answer[0] == 400:
        assert "parse error at char 3" in str(err.value)
