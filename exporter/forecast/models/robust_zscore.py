"""Robust z-score: distance from the history's median in MADs (Iglewicz and Hoaglin's
modified z-score); no forecast. Suits series without strong seasonality."""

from __future__ import annotations

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

# Iglewicz and Hoaglin's cut-off for the modified z-score.
THRESHOLD = 3.5


@register_model
class RobustZScore(Model):
    """Scores |y - median| / (3.5 * 1.4826 * MAD)."""

    name = "robust_zscore"
    forecasts = False

    def fit(self, y: Array, seasons: Seasons) -> Any:
        finite = y[np.isfinite(y)]
        if finite.size < 8:
            raise FitError(f"needs at least 8 points, has {finite.size}")
        return float(np.median(finite)), robust_sigma(finite)

    def apply(
        self, params: Any, y: Array, seasons: Seasons, horizons: list[int], z: float
    ) -> Output:
        median, sigma = params
        return Output(scores=normalised(y - median, THRESHOLD, sigma, median))
