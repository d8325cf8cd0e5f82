"""The forecast loop against a real local HTTP server that answers `query_range` like
Prometheus: at most `workers` series in flight, fits only every `fit_every` while
inference repeats every `infer_every`, and results for every series."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from exporter.forecast.config import ForecastConfig, PrometheusConfig, SeriesConfig
from exporter.forecast.results import Results
from exporter.forecast.scheduler import Scheduler
from servicekit.values import Duration

DELAY = 0.3  # seconds each answer takes, so concurrent queries overlap


@dataclass
class FakePrometheus:
    url: str = ""
    requests: int = 0
    in_flight: int = 0
    most: int = 0
    queries: list[str] = field(default_factory=list)


async def _query_range(request: web.Request) -> web.Response:
    state: FakePrometheus = request.app[STATE]
    form = await request.post()
    state.requests += 1
    state.queries.append(str(form["query"]))
    state.in_flight += 1
    state.most = max(state.most, state.in_flight)
    try:
        await asyncio.sleep(DELAY)
    finally:
        state.in_flight -= 1
    start, end, step = (float(str(form[k])) for k in ("start", "end", "step"))
    count = int((end - start) // step) + 1
    values = [
        [start + i * step, str(100 + 10 * math.sin(2 * math.pi * (start + i * step) / 86400))]
        for i in range(count)
    ]
    result = [{"metric": {}, "values": values}]
    return web.json_response(
        {"status": "success", "data": {"resultType": "matrix", "result": result}}
    )


STATE = web.AppKey("state", FakePrometheus)


@pytest.fixture
async def prometheus() -> AsyncIterator[FakePrometheus]:
    app = web.Application()
    app[STATE] = FakePrometheus()
    app.router.add_post("/api/v1/query_range", _query_range)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    app[STATE].url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield app[STATE]
    await runner.cleanup()


def _config(url: str, series: int, workers: int, infer_every: float) -> ForecastConfig:
    return ForecastConfig(
        prometheus=PrometheusConfig(url=url),
        series=[SeriesConfig(name=f"s{i}", query=f"q{i}") for i in range(series)],
        models=["seasonal_naive", "robust_zscore"],
        history=Duration(2 * 86400),
        infer_every=Duration(infer_every),
        horizons=[Duration(3600)],
        workers=workers,
    )


def _samples(results: Results, name: str) -> dict[tuple[str, ...], float]:
    family = next(f for f in results.families() if f.name == name)
    return {tuple(s.labels.values()): s.value for s in family.samples}


async def _until(check: Callable[[], object], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_at_most_workers_series_are_in_flight(prometheus: FakePrometheus) -> None:
    config = _config(prometheus.url, series=4, workers=2, infer_every=3600)
    results = Results(config)
    task = asyncio.create_task(Scheduler(config, results).run())
    try:
        await _until(lambda: len(_samples(results, "tocsin_anomaly_score")) == 8, 30)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert prometheus.most == 2
    assert sorted(prometheus.queries) == ["q0", "q1", "q2", "q3"]
    forecasts = _samples(results, "tocsin_forecast")
    assert {k[0] for k in forecasts} == {"s0", "s1", "s2", "s3"}
    assert {k[2] for k in forecasts} == {"1h"}


async def test_inference_repeats_while_the_fit_waits_for_fit_every(
    prometheus: FakePrometheus,
) -> None:
    config = _config(prometheus.url, series=1, workers=1, infer_every=0.1)
    results = Results(config)
    task = asyncio.create_task(Scheduler(config, results).run())
    try:
        fits = "tocsin_forecast_last_fit_timestamp_seconds"
        await _until(lambda: len(_samples(results, fits)) == 2, 30)  # both models fitted
        first_fit = _samples(results, fits)
        reads = prometheus.requests
        await _until(lambda: prometheus.requests >= reads + 3, 30)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert _samples(results, fits) == first_fit
    assert _samples(results, "tocsin_forecast_query_success") == {("s0",): 1.0}
