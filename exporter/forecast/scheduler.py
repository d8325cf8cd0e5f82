"""The forecast loop: every `infer_every`, read each series from Prometheus, refit its
models when `fit_every` has passed, and run them on the latest data.

Numeric work runs in a pool of `workers` threads, never on the event loop or the scrape
path; at most `workers` series are in flight at once. Each problem (Prometheus
unreachable, an empty answer, gaps, a model that fails) is logged once when it starts and
once when it clears, and counted in a metric every time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import structlog

from exporter.forecast.config import ForecastConfig, SeriesConfig
from exporter.forecast.models import models, unavailable_models
from exporter.forecast.models.base import Model, Seasons
from exporter.forecast.prometheus_api import PrometheusAPI, QueryError, RangeQuery
from exporter.forecast.results import ModelResult, Results, horizon_label
from exporter.forecast.series import Grid, to_grid

log = structlog.get_logger(__name__)


@dataclass
class _Fitted:
    params: Any
    at: float


class Scheduler:
    """Runs the loop until cancelled; findings go to `results`."""

    def __init__(
        self, config: ForecastConfig, results: Results, clock: Callable[[], float] = time.time
    ) -> None:
        self._config = config
        self._results = results
        self._clock = clock
        self._fitted: dict[tuple[str, str], _Fitted] = {}
        self._problems: dict[tuple[str, ...], str] = {}
        self._models: dict[str, Model] = {}
        self._z = NormalDist().inv_cdf(0.5 + config.confidence / 2)
        step = float(config.step)
        self._horizons = {max(1, round(h / step)): horizon_label(h) for h in config.horizons}
        self._seasons = Seasons.for_history(step, config.points)
        # How many of the latest points are new since the last round: the score is the
        # maximum of that many latest scored points, so a spike between rounds is not missed
        # and a trailing gap does not blank the score.
        self._recent = max(1, round(config.infer_every / step))

    def _load_models(self) -> None:
        known = models()
        missing = unavailable_models()
        configured = sorted({m for s in self._config.series for m in self._config.models_of(s)})
        for name in configured:
            if name in known:
                self._models[name] = known[name]()
                continue
            why = missing.get(name, f"unknown model (known: {', '.join(sorted(known))})")
            log.warning("forecast_model_unavailable", model=name, reason=why)
        self._results.set_available({m: m in self._models for m in configured})

    async def run(self) -> None:
        """Loop until cancelled."""
        self._load_models()
        api: PrometheusAPI | None = None
        executor = ThreadPoolExecutor(self._config.workers, thread_name_prefix="forecast")
        gate = asyncio.Semaphore(self._config.workers)
        try:
            while True:
                began = time.monotonic()
                if api is None:
                    api = self._connect()
                if api is not None:
                    client = api
                    rounds = [self._series(client, executor, gate, s) for s in self._config.series]
                    outcomes = await asyncio.gather(*rounds, return_exceptions=True)
                    self._report_bugs(outcomes)
                pause = float(self._config.infer_every) - (time.monotonic() - began)
                await asyncio.sleep(max(pause, 0.0))
        finally:
            if api is not None:
                await api.close()
            executor.shutdown(wait=False, cancel_futures=True)

    def _report_bugs(self, outcomes: list[BaseException | None]) -> None:
        """A round that raised is a bug in tocsin, not a property of the series: logged
        (once per kind), and the loop goes on with the next round."""
        for series, outcome in zip(self._config.series, outcomes, strict=True):
            if isinstance(outcome, Exception):
                self._problem(
                    (series.name, "bug"), "forecast_round_failed", series=series.name,
                    reason=type(outcome).__name__, error=str(outcome)[:300],
                )  # fmt: skip
            elif isinstance(outcome, BaseException):
                raise outcome  # cancellation

    def _connect(self) -> PrometheusAPI | None:
        try:
            api = PrometheusAPI(self._config.prometheus)
        except (OSError, ssl.SSLError) as exc:
            # TLS files checked at config time may be gone; retried every round.
            for s in self._config.series:
                self._results.series_failed(s.name, "unreachable")
            self._problem(("", "tls"), "forecast_tls_failed", error=str(exc)[:300])
            return None
        self._clear(("", "tls"), "forecast_tls_recovered")
        return api

    async def _series(
        self,
        api: PrometheusAPI,
        executor: ThreadPoolExecutor,
        gate: asyncio.Semaphore,
        series: SeriesConfig,
    ) -> None:
        step = float(self._config.step)
        end = math.floor(self._clock() / step) * step
        start = end - (self._config.points - 1) * step
        async with gate:
            try:
                samples = await api.query_range(RangeQuery(series.query, start, end, step))
            except QueryError as exc:
                self._results.series_failed(series.name, exc.reason)
                self._problem(
                    (series.name, "query"),
                    "forecast_query_failed",
                    series=series.name,
                    reason=exc.reason,
                    error=str(exc),
                )
                return
            self._clear((series.name, "query"), "forecast_query_recovered", series=series.name)
            loop = asyncio.get_running_loop()
            grid = await loop.run_in_executor(
                executor, to_grid, samples, start, step, self._config.points
            )
            if not self._check_gaps(series, grid):
                return
            for name in self._config.models_of(series):
                if name in self._models:
                    await loop.run_in_executor(executor, self._model_round, series.name, name, grid)

    def _check_gaps(self, series: SeriesConfig, grid: Grid) -> bool:
        """Record the series' gaps; False when there are too many to fit."""
        key = (series.name, "gaps")
        self._results.series_read(series.name, grid.missing, grid.last)
        if grid.missing > self._config.max_missing_ratio:
            self._results.series_failed(series.name, "too_many_gaps")
            self._problem(
                key, "forecast_series_gaps", series=series.name, missing=round(grid.missing, 3),
                fitted=False,
            )  # fmt: skip
            return False
        if grid.missing > 0:
            self._problem(
                key, "forecast_series_gaps", series=series.name, missing=round(grid.missing, 3),
                fitted=True,
            )  # fmt: skip
        else:
            self._clear(key, "forecast_series_gaps_gone", series=series.name)
        return True

    def _model_round(self, series: str, name: str, grid: Grid) -> None:
        """Refit if due, then infer; runs in a worker thread."""
        key = (series, name)
        model = self._models[name]
        now = self._clock()
        seasons = dataclasses.replace(self._seasons, start=round(grid.start / grid.step))
        try:
            fitted = self._fitted.get(key)
            if fitted is None or now - fitted.at >= self._config.fit_every:
                began = time.perf_counter()
                fitted = _Fitted(model.fit(grid.values, seasons), now)
                self._results.fitted(series, name, time.perf_counter() - began, self._clock())
                self._fitted[key] = fitted
            out = model.apply(fitted.params, grid.values, seasons, list(self._horizons), self._z)
        except Exception as exc:  # any model failure is this model's, never the loop's
            self._fitted.pop(key, None)
            self._results.fit_failed(series, name)
            self._problem(
                ("fit", *key), "forecast_fit_failed", series=series, model=name,
                error=f"{type(exc).__name__}: {exc}"[:300],
            )  # fmt: skip
            return
        self._clear(("fit", *key), "forecast_fit_recovered", series=series, model=name)
        finite = out.scores[np.isfinite(out.scores)][-self._recent :]
        result = ModelResult(score=float(finite.max()) if finite.size else None)
        for steps, bounds in out.forecasts.items():
            if all(math.isfinite(b) for b in bounds):
                result.forecasts[self._horizons[steps]] = bounds
        self._results.inferred(series, name, result)

    def _problem(self, key: tuple[str, ...], event: str, **fields: Any) -> None:
        """Log `event` once while the same problem persists (a changing ratio or error
        text is the same problem; a new reason is a new one)."""
        text = f"{event}:{fields.get('reason', '')}:{fields.get('fitted', '')}"
        if self._problems.get(key) != text:
            self._problems[key] = text
            log.warning(event, **fields)

    def _clear(self, key: tuple[str, ...], event: str, **fields: Any) -> None:
        if self._problems.pop(key, None) is not None:
            log.info(event, **fields)
