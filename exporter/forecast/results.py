"""What the forecast loop has found, kept for `collect()` to read: plain Python, no numpy,
so the collector's scrape path never waits on a fit."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.forecast.config import ForecastConfig

SERIES_ERRORS = (
    "unreachable",
    "http_error",
    "bad_response",
    "too_large",
    "empty",
    "not_one_series",
    "too_many_gaps",
)


def horizon_label(seconds: float) -> str:
    """A horizon as the `horizon` label: `6h`, `90m`, `45s`."""
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@dataclass
class ModelResult:
    """The last inference of one model on one series."""

    forecasts: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    score: float | None = None


@dataclass
class _Fit:
    duration: float = 0.0
    timestamp: float = 0.0


class Results:
    """Thread-safe store of the loop's findings, and the metric families built from them."""

    def __init__(self, config: ForecastConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._available: dict[str, bool] = {}
        self._query_ok: dict[str, bool] = {}
        self._missing: dict[str, float] = {}
        self._observed: dict[str, float] = {}
        self._series_errors = {(s.name, r): 0 for s in config.series for r in SERIES_ERRORS}
        self._fit_errors = {(s.name, m): 0 for s in config.series for m in config.models_of(s)}
        self._fits: dict[tuple[str, str], _Fit] = {}
        self._outputs: dict[tuple[str, str], ModelResult] = {}

    def set_available(self, available: dict[str, bool]) -> None:
        """Which of the configured models can run here."""
        with self._lock:
            self._available = dict(available)

    def series_failed(self, series: str, reason: str) -> None:
        """The series could not be read (or was mostly gaps): its outputs are dropped."""
        with self._lock:
            self._query_ok[series] = False
            self._series_errors[(series, reason)] = self._series_errors.get((series, reason), 0) + 1
            self._observed.pop(series, None)
            for key in [k for k in self._outputs if k[0] == series]:
                del self._outputs[key]

    def series_read(self, series: str, missing: float, last: float | None) -> None:
        """The series was read; `missing` is the share of its points that were absent,
        `last` its latest value (None when the latest points are all missing)."""
        with self._lock:
            self._query_ok[series] = True
            self._missing[series] = missing
            if last is None:
                self._observed.pop(series, None)
            else:
                self._observed[series] = last

    def fitted(self, series: str, model: str, duration: float, timestamp: float) -> None:
        """A fit succeeded."""
        with self._lock:
            self._fits[(series, model)] = _Fit(duration, timestamp)

    def fit_failed(self, series: str, model: str) -> None:
        """A fit or inference failed: the model's outputs for this series are dropped."""
        with self._lock:
            self._fit_errors[(series, model)] = self._fit_errors.get((series, model), 0) + 1
            self._outputs.pop((series, model), None)

    def inferred(self, series: str, model: str, result: ModelResult) -> None:
        """The latest forecasts and score of one model on one series."""
        with self._lock:
            self._outputs[(series, model)] = result

    def families(self) -> list[Metric]:
        """Every metric family, from a consistent copy of the state."""
        with self._lock:
            available = dict(self._available)
            query_ok = dict(self._query_ok)
            missing = dict(self._missing)
            observed = dict(self._observed)
            series_errors = dict(self._series_errors)
            fit_errors = dict(self._fit_errors)
            fits = dict(self._fits)
            outputs = {k: ModelResult(dict(v.forecasts), v.score) for k, v in self._outputs.items()}
        forecast = GaugeMetricFamily(
            "tocsin_forecast",
            "Forecast of the series `horizon` ahead: yhat, and the lower and upper bounds of "
            "its prediction interval.",
            labels=["series", "model", "horizon", "bound"],
        )
        score = GaugeMetricFamily(
            "tocsin_anomaly_score",
            "Anomaly score of the series' latest points; above 1 is anomalous.",
            labels=["series", "model"],
        )
        for (name, model), result in sorted(outputs.items()):
            for horizon, bounds in result.forecasts.items():
                for bound, value in zip(("yhat", "lower", "upper"), bounds, strict=True):
                    forecast.add_metric([name, model, horizon, bound], value)
            if result.score is not None:
                score.add_metric([name, model], result.score)
        duration = GaugeMetricFamily(
            "tocsin_forecast_fit_duration_seconds",
            "How long the last successful fit took.",
            labels=["series", "model"],
        )
        last_fit = GaugeMetricFamily(
            "tocsin_forecast_last_fit_timestamp_seconds",
            "When the last successful fit finished (Unix time).",
            labels=["series", "model"],
        )
        for (name, model), fit in sorted(fits.items()):
            duration.add_metric([name, model], fit.duration)
            last_fit.add_metric([name, model], fit.timestamp)
        fit_total = CounterMetricFamily(
            "tocsin_forecast_fit_errors",
            "Fits and inferences that failed, per series and model.",
            labels=["series", "model"],
        )
        for (name, model), count in sorted(fit_errors.items()):
            fit_total.add_metric([name, model], count)
        series_total = CounterMetricFamily(
            "tocsin_forecast_series_errors",
            "Reads of a series that gave nothing to fit, by reason.",
            labels=["series", "reason"],
        )
        for (name, reason), count in sorted(series_errors.items()):
            series_total.add_metric([name, reason], count)
        ok = GaugeMetricFamily(
            "tocsin_forecast_query_success",
            "1 when the last read of the series gave data to fit.",
            labels=["series"],
        )
        gaps = GaugeMetricFamily(
            "tocsin_forecast_series_missing_ratio",
            "Share of the last read's points that were absent or NaN.",
            labels=["series"],
        )
        for name, good in sorted(query_ok.items()):
            ok.add_metric([name], 1.0 if good else 0.0)
        for name, ratio in sorted(missing.items()):
            gaps.add_metric([name], ratio)
        last = GaugeMetricFamily(
            "tocsin_forecast_observed",
            "The latest value of the series as read: what its forecasts and scores are about.",
            labels=["series"],
        )
        for name, value in sorted(observed.items()):
            last.add_metric([name], value)
        model_ok = GaugeMetricFamily(
            "tocsin_forecast_model_available",
            "1 when the configured model can run here (0: unknown, or its extra is missing).",
            labels=["model"],
        )
        for model, good in sorted(available.items()):
            model_ok.add_metric([model], 1.0 if good else 0.0)
        limit = GaugeMetricFamily(
            "tocsin_forecast_limit",
            "The configured limit a forecast of the series must not cross (side: below|above).",
            labels=["series", "side"],
        )
        for s in self._config.series:
            if s.below is not None:
                limit.add_metric([s.name, "below"], s.below)
            if s.above is not None:
                limit.add_metric([s.name, "above"], s.above)
        return [
            last,
            forecast,
            score,
            duration,
            last_fit,
            fit_total,
            series_total,
            ok,
            gaps,
            model_ok,
            limit,
        ]
