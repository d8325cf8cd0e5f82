"""ETS (additive error, damped additive trend, additive daily season) from statsmodels,
with heuristic initial states so a season of 288 steps fits in well under a second.
Needs the `tocsin[forecast]` extra."""

from __future__ import annotations

from statistics import NormalDist
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

NAME = "ets"
THRESHOLD = 4.0


class Ets(Model):
    """statsmodels' ETSModel, A/Ad/A."""

    name = NAME

    def _model(self, y: Array, seasons: Seasons) -> Any:
        # ETSModel's prediction intervals want a pandas Series, not an array.
        return extras.tsa().ETSModel(
            extras.pandas().Series(extras.interpolated(y)),
            error="add",
            trend="add",
            damped_trend=True,
            seasonal="add",
            seasonal_periods=seasons.daily,
            initialization_method="heuristic",
        )

    def fit(self, y: Array, seasons: Seasons) -> Any:
        if np.isfinite(y).sum() < 3 * seasons.daily:
            raise FitError(f"needs at least three days ({3 * seasons.daily} points) of data")
        return extras.quietly(self._model(y, seasons).fit, disp=False).params

    def apply(
        self, params: Any, y: Array, seasons: Seasons, horizons: list[int], z: float
    ) -> Output:
        result = extras.quietly(self._model(y, seasons).smooth, params)
        top = max(horizons)
        alpha = 2 * (1 - NormalDist().cdf(z))
        prediction = result.get_prediction(start=y.size, end=y.size + top - 1)
        frame = prediction.summary_frame(alpha=alpha)
        out = Output()
        for h in horizons:
            row = frame.iloc[h - 1]
            out.forecasts[h] = (float(row["mean"]), float(row["pi_lower"]), float(row["pi_upper"]))
        resid = np.array(result.resid, dtype=float)
        resid[np.isnan(y)] = np.nan
        resid[: seasons.daily] = np.nan  # the heuristic initial season
        out.scores = normalised(resid, THRESHOLD, robust_sigma(resid), float(np.nanmedian(y)))
        return out


if extras.installed("statsmodels"):
    register_model(Ets)
else:
    unavailable(NAME, extras.STATSMODELS)
