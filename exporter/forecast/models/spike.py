"""Spike detection: the step-to-step change against the spread of the changes over the
day before it, so a series that is always jumpy is not called spiky; no forecast."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from exporter.forecast.models import register_model
from exporter.forecast.models.base import (
    MAD_TO_SIGMA,
    Array,
    FitError,
    Model,
    Output,
    Seasons,
    normalised,
)

THRESHOLD = 6.0
_BLOCK = 256


@register_model
class Spike(Model):
    """Scores |dy| / (6 * rolling robust sigma of dy over one day)."""

    name = "spike"
    forecasts = False

    def fit(self, y: Array, seasons: Seasons) -> Any:
        window = min(seasons.daily, max(8, y.size // 4))
        if y.size < window + 2:
            raise FitError(f"needs at least {window + 2} points, has {y.size}")
        return window

    def apply(
        self, params: Any, y: Array, seasons: Seasons, horizons: list[int], z: float
    ) -> Output:
        window = int(params)
        dy = np.diff(y)
        if dy.size <= window:
            raise FitError(f"needs at least {window + 2} points, has {y.size}")
        views = sliding_window_view(dy, window)[:-1]  # the `window` changes before each one
        centre = np.empty(views.shape[0])
        sigma = np.empty(views.shape[0])
        # In blocks: the medians copy what they read, and a whole (points x window) copy
        # is 9 MB for two weeks at 5m steps, per series.
        for first in range(0, views.shape[0], _BLOCK):
            block = views[first : first + _BLOCK]
            with np.errstate(all="ignore"):
                mid = np.nanmedian(block, axis=1)
                spread = np.nanmedian(np.abs(block - mid[:, None]), axis=1)
            centre[first : first + _BLOCK] = mid
            sigma[first : first + _BLOCK] = MAD_TO_SIGMA * spread
        scores = np.full(y.size, np.nan)
        level = float(np.nanmedian(np.abs(y)))
        floor = max(level * 1e-6, 1e-12)
        deviation = dy[window:] - centre
        scores[window + 1 :] = normalised(deviation / np.maximum(sigma, floor), THRESHOLD, 1.0, 1.0)
        return Output(scores=scores)
