"""ARIMA errors around a linear trend and Fourier terms for the daily and weekly seasons
(dynamic harmonic regression): seasons of 288 or 2016 steps are too long for a seasonal
ARIMA to fit in reasonable time, and a few sine/cosine pairs describe them well. Needs the
`tocsin[forecast]` extra."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from exporter.forecast.models import _extras as extras
from exporter.forecast.models import register_model, unavailable
from exporter.forecast.models.base import (
    Array,
    FitError,
    Model,
    Output,
    Seasons,
    normalised,
    robust_sigma,
)

NAME = "arima"
ORDER = (1, 0, 0)
DAILY_PAIRS = 3
WEEKLY_PAIRS = 2
THRESHOLD = 4.0


def _regressors(t: Array, seasons: Seasons, origin: int) -> Array:
    """At absolute steps `t`: days since `origin` (the trend), and sine/cosine pairs, so
    trend and phase mean the same in every window the fitted parameters are run on."""
    columns = [(t - origin) / seasons.daily]
    for period, pairs in ((seasons.daily, DAILY_PAIRS), (seasons.weekly, WEEKLY_PAIRS)):
        if period:
            for k in range(1, pairs + 1):
                angle = 2 * np.pi * k * t / period
                columns += [np.sin(angle), np.cos(angle)]
    return np.column_stack(columns)


class Arima(Model):
    """ARIMA(1,0,0) errors around a linear trend plus Fourier seasons."""

    name = NAME

    def _model(self, y: Array, seasons: Seasons, origin: int) -> Any:
        t = seasons.start + np.arange(y.size, dtype=float)
        exog = _regressors(t, seasons, origin)
        return extras.tsa().arima.ARIMA(y, exog=exog, order=ORDER, trend="c")

    def fit(self, y: Array, seasons: Seasons) -> Any:
        if np.isfinite(y).sum() < 2 * seasons.daily:
            raise FitError(f"needs at least two days ({2 * seasons.daily} points) of data")
        result = extras.quietly(self._model(y, seasons, seasons.start).fit)
        # The regressors are rebuilt from these seasons (and origin) at every apply.
        return result.params, seasons.start, seasons

    def apply(
        self, params: Any, y: Array, seasons: Seasons, horizons: list[int], z: float
    ) -> Output:
        coefficients, origin, fitted = params
        seasons = dataclasses.replace(fitted, start=seasons.start)
        # ARIMA's Kalman filter takes the gaps (NaN) as they are.
        result = extras.quietly(self._model(y, seasons, origin).filter, coefficients)
        top = max(horizons)
        first = seasons.start + y.size
        future = _regressors(np.arange(first, first + top, dtype=float), seasons, origin)
        prediction = result.get_forecast(top, exog=future)
        mean = np.asarray(prediction.predicted_mean)
        sd = np.sqrt(np.asarray(prediction.var_pred_mean))
        out = Output()
        for h in horizons:
            yhat, half = float(mean[h - 1]), z * float(sd[h - 1])
            out.forecasts[h] = (yhat, yhat - half, yhat + half)
        resid = np.array(result.resid, dtype=float)
        resid[np.isnan(y)] = np.nan
        resid[: seasons.daily] = np.nan  # the filter's burn-in
        out.scores = normalised(resid, THRESHOLD, robust_sigma(resid), float(np.nanmedian(y)))
        return out


if extras.installed("statsmodels"):
    register_model(Arima)
else:
    unavailable(NAME, extras.STATSMODELS)
