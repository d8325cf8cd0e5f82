"""Prophet (piecewise-linear trend, daily and weekly Fourier seasons, fitted by Stan) with
its own uncertainty intervals. Needs the `tocsin[prophet]` extra; the score is the
distance from Prophet's in-sample fit against that distance's robust spread."""

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

NAME = "prophet"
THRESHOLD = 4.0


def _frame(values: Array, seasons: Seasons, first: int) -> Any:
    """Prophet's input: `ds` (absolute time, so a later window keeps the phase) and `y`."""
    pd = extras.pandas()
    seconds = (first + np.arange(values.size)) * seasons.step
    return pd.DataFrame({"ds": pd.to_datetime(seconds, unit="s"), "y": values})


class Prophet(Model):
    """Facebook's Prophet with daily (and, given two weeks, weekly) seasonality."""

    name = NAME

    def fit(self, y: Array, seasons: Seasons) -> Any:
        if np.isfinite(y).sum() < 2 * seasons.daily:
            raise FitError(f"needs at least two days ({2 * seasons.daily} points) of data")
        model = extras.prophet().Prophet(
            daily_seasonality=True,
            weekly_seasonality=seasons.weekly is not None,
            yearly_seasonality=False,
        )
        frame = _frame(y, seasons, seasons.start)
        extras.quietly(model.fit, frame[frame["y"].notna()])  # gaps as absent rows
        return model

    def apply(
        self, params: Any, y: Array, seasons: Seasons, horizons: list[int], z: float
    ) -> Output:
        model = params
        model.interval_width = 2 * NormalDist().cdf(z) - 1
        last = seasons.start + y.size - 1
        pd = extras.pandas()
        ahead = pd.to_datetime([(last + h) * seasons.step for h in horizons], unit="s")
        future = pd.DataFrame({"ds": ahead})
        predicted = extras.quietly(model.predict, future)
        out = Output()
        for h, (_, row) in zip(horizons, predicted.iterrows(), strict=True):
            out.forecasts[h] = (
                float(row["yhat"]),
                float(row["yhat_lower"]),
                float(row["yhat_upper"]),
            )
        # The in-sample fit needs no intervals: without the draws it is about 7x cheaper
        # (two weeks at 5m steps).
        draws = model.uncertainty_samples
        model.uncertainty_samples = 0
        try:
            fitted = extras.quietly(model.predict, _frame(y, seasons, seasons.start)[["ds"]])
        finally:
            model.uncertainty_samples = draws
        resid = y - fitted["yhat"].to_numpy()
        out.scores = normalised(resid, THRESHOLD, robust_sigma(resid), float(np.nanmedian(y)))
        return out


if extras.installed("prophet"):
    register_model(Prophet)
else:
    unavailable(NAME, extras.PROPHET)
