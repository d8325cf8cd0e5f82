"""IQR fences: a point beyond Q3 + k*IQR or below Q1 - k*IQR is anomalous; no forecast.
The score is the distance from the median over the distance to the fence on that side."""

from __future__ import annotations

from typing import Any

import numpy as np

from exporter.forecast.models import register_model
from exporter.forecast.models.base import MAX_SCORE, Array, FitError, Model, Output, Seasons

# Tukey's "far out" fences: 1.5 flags 0.7% of normal data, 3 about two in a million.
K = 3.0


@register_model
class IQRFences(Model):
    """Tukey fences from the history's quartiles."""

    name = "iqr"
    forecasts = False

    def fit(self, y: Array, seasons: Seasons) -> Any:
        finite = y[np.isfinite(y)]
        if finite.size < 8:
            raise FitError(f"needs at least 8 points, has {finite.size}")
        q1, median, q3 = (float(q) for q in np.percentile(finite, [25, 50, 75]))
        spread = q3 - q1 if q3 > q1 else max(abs(median) * 1e-6, 1e-12)
        return median, q1 - K * spread, q3 + K * spread

    def apply(
        self, params: Any, y: Array, seasons: Seasons, horizons: list[int], z: float
    ) -> Output:
        median, low, high = params
        above = (y - median) / max(high - median, 1e-12)
        below = (median - y) / max(median - low, 1e-12)
        scores = np.where(y >= median, above, below)
        return Output(scores=np.minimum(scores, MAX_SCORE))
