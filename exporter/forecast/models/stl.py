"""STL decomposition (robust LOESS, daily period): the score is the remainder against its
own robust spread, so neither the season nor the trend is called an anomaly; no forecast.
Needs the `tocsin[forecast]` extra."""

from __future__ import annotations

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

NAME = "stl"
THRESHOLD = 5.0  # its remainder has heavier tails than the noise: 4 flags 0.5% of clean points
# LOESS evaluated every 29th point and interpolated: 50x faster, the same remainder
# to within a few percent on the benchmark's series.
JUMP = 29


class Stl(Model):
    """Scores the STL remainder."""

    name = NAME
    forecasts = False

    def fit(self, y: Array, seasons: Seasons) -> Any:
        if np.isfinite(y).sum() < 2 * seasons.daily:
            raise FitError(f"needs at least two days ({2 * seasons.daily} points) of data")
        return None

    def apply(
        self, params: Any, y: Array, seasons: Seasons, horizons: list[int], z: float
    ) -> Output:
        stl = extras.tsa().STL(
            extras.interpolated(y),
            period=seasons.daily,
            # A 13-period seasonal smoother: the default 7 follows the noise and leaves a
            # heavy-tailed remainder (2% of clean points past 4 sigmas; 0.6% with 13).
            seasonal=13,
            robust=True,
            trend_jump=JUMP,
            low_pass_jump=JUMP,
        )
        resid = np.array(extras.quietly(stl.fit).resid, dtype=float)
        resid[np.isnan(y)] = np.nan
        return Output(
            scores=normalised(resid, THRESHOLD, robust_sigma(resid), float(np.nanmedian(y)))
        )


if extras.installed("statsmodels"):
    register_model(Stl)
else:
    unavailable(NAME, extras.STATSMODELS)
