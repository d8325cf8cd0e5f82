"""Seasonal naive with drift: the forecast is the value one season ago (a week when the
history holds two, else a day) plus the typical change over a season; the score is the
change against that value."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from exporter.forecast.models import register_model
from exporter.forecast.models.base import (
    Array,
    FitError,
    Model,
    Output,
    Seasons,
    normalised,
    robust_sigma,
)

THRESHOLD = 4.0


@register_model
class SeasonalNaive(Model):
    """Forecasts last season's value; sigma from the seasonal differences."""

    name = "seasonal_naive"

    def fit(self, y: Array, seasons: Seasons) -> Any:
        m = seasons.weekly or seasons.daily
        if y.size <= m:
            raise FitError(f"needs more than one season ({m} steps) of history, has {y.size}")
        change = y[m:] - y[:-m]
        # Centred on the typical change, so a steady trend is not scored as anomalous.
        return m, robust_sigma(change), float(np.nanmedian(change))

    def apply(
        self, params: Any, y: Array, seasons: Seasons, horizons: list[int], z: float
    ) -> Output:
        m, sigma, drift = params
        out = Output()
        if y.size <= m:
            raise FitError(f"needs more than one season ({m} steps) of data, has {y.size}")
        for h in horizons:
            k = math.ceil(h / m)
            yhat = float(y[y.size - 1 + h - k * m]) + k * drift
            half = z * sigma * math.sqrt(k)
            out.forecasts[h] = (yhat, yhat - half, yhat + half)
        deviation = np.full(y.size, np.nan)
        deviation[m:] = y[m:] - y[:-m] - drift
        out.scores = normalised(deviation, THRESHOLD, sigma, float(np.nanmedian(y)))
        return out
