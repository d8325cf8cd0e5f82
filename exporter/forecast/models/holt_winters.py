"""Additive Holt-Winters with a daily and (given two weeks of history) a weekly season,
in Taylor's double-seasonal error-correction form, with prediction intervals.

`fit` picks the smoothing weights from a small grid by one-step squared error, running
every grid point in one vectorised pass; `apply` runs the chosen weights over the latest
data. Missing points (NaN) advance the state on the forecast alone. Errors are clipped to
`CLIP` robust sigmas before they update the state (after Gelper, Fried and Croux's robust
Holt-Winters), so a spike or a level shift does not drag the forecast along and keeps its
score until the model has had time to adapt.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
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
CLIP = 3.0
_ALPHA = (0.02, 0.1, 0.3)
_BETA = (0.0, 0.01)
_GAMMA = (0.05, 0.2)
_DELTA = (0.05, 0.2)


@dataclass(frozen=True)
class Weights:
    """Smoothing weights: level, trend, daily season, weekly season."""

    alpha: float
    beta: float
    gamma: float
    delta: float
    clip: float = math.inf  # largest error, in the series' units, that updates the state


@dataclass
class _State:
    level: Array
    trend: Array
    daily: Array  # (grid, m1), indexed by t mod m1
    weekly: Array  # (grid, m2) or (grid, 0)
    errors: Array  # (grid, n) one-step errors, NaN where y was missing


def _initial(y: Array, seasons: Seasons, grid: int) -> tuple[_State, int]:
    """State from the first week (or day): level and trend (from the first two seasons'
    means), daily profile, weekly remainder."""
    m1 = seasons.daily
    span = seasons.weekly or m1
    first = y[:span]
    if np.isnan(first).all():
        raise FitError("the first season holds no data")
    mean = float(np.nanmean(first))
    trend = 0.0
    second = y[span : 2 * span]
    if second.size == span and not np.isnan(second).all():
        trend = (float(np.nanmean(second)) - mean) / span
    # Detrended, so the slope is not taken for a season.
    detrended = first - mean - trend * (np.arange(span) - (span - 1) / 2)
    detrended = np.where(np.isnan(detrended), 0.0, detrended)
    daily = detrended[: (span // m1) * m1].reshape(-1, m1).mean(axis=0)
    weekly = detrended - np.tile(daily, span // m1) if seasons.weekly else np.zeros(0)
    state = _State(
        level=np.full(grid, mean + trend * (span - 1) / 2),
        trend=np.full(grid, trend),
        daily=np.tile(daily, (grid, 1)),
        weekly=np.tile(weekly, (grid, 1)),
        errors=np.full((grid, y.size), np.nan),
    )
    return state, span


def _run(y: Array, seasons: Seasons, w: list[Weights]) -> _State:
    """One pass over y for every weight set at once."""
    alpha = np.array([x.alpha for x in w])
    ab = alpha * np.array([x.beta for x in w])
    gamma = np.array([x.gamma for x in w])
    delta = np.array([x.delta for x in w])
    clip = np.array([x.clip for x in w])
    m1, m2 = seasons.daily, seasons.weekly or 0
    s, start = _initial(y, seasons, len(w))
    for t in range(start, y.size):
        i1 = t % m1
        seasonal = s.daily[:, i1] + (s.weekly[:, t % m2] if m2 else 0.0)
        yhat = s.level + s.trend + seasonal
        e = y[t] - yhat
        if math.isnan(y[t]):
            e = np.zeros(len(w))
        else:
            s.errors[:, t] = e
            e = np.clip(e, -clip, clip)
        s.level = s.level + s.trend + alpha * e
        s.trend = s.trend + ab * e
        s.daily[:, i1] += gamma * e
        if m2:
            s.weekly[:, t % m2] += delta * e
    return s


def _interval_factors(w: Weights, seasons: Seasons, horizons: list[int]) -> dict[int, float]:
    """sqrt(1 + sum_{j<h} c_j^2): how the one-step sigma widens h steps ahead."""
    top = max(horizons)
    j = np.arange(1, top)
    c = w.alpha * (1 + j * w.beta) + w.gamma * (j % seasons.daily == 0)
    if seasons.weekly:
        c = c + w.delta * (j % seasons.weekly == 0)
    cumulative = np.concatenate([[0.0], np.cumsum(c**2)])
    return {h: math.sqrt(1 + float(cumulative[h - 1])) for h in horizons}


def _best(y: Array, seasons: Seasons, clip: float) -> tuple[Weights, float]:
    """The grid's weights with the least one-step squared error, and their robust sigma."""
    span = seasons.weekly or seasons.daily
    grid = [
        Weights(a, b, g, d if seasons.weekly else 0.0, clip)
        for a, b, g, d in itertools.product(_ALPHA, _BETA, _GAMMA, _DELTA)
        if seasons.weekly or d == _DELTA[0]
    ]
    state = _run(y, seasons, grid)
    # The first day after initialisation is warm-up; it would favour whatever fits it.
    errors = state.errors[:, span + seasons.daily :]
    if errors.shape[1] == 0 or np.isnan(errors).all():
        errors = state.errors
    sse = np.nansum(errors**2, axis=1)
    if not np.isfinite(sse).any() or np.isnan(errors).all():
        raise FitError("no finite one-step error")
    i = int(np.nanargmin(sse))
    return grid[i], robust_sigma(errors[i])


@register_model
class HoltWinters(Model):
    """Double-seasonal additive Holt-Winters."""

    name = "holt_winters"

    def fit(self, y: Array, seasons: Seasons) -> Any:
        span = seasons.weekly or seasons.daily
        if y.size < span + seasons.daily:
            raise FitError(f"needs at least {span + seasons.daily} points, has {y.size}")
        # Two passes: the first, unclipped, measures the one-step noise; the second picks
        # the weights with errors clipped to CLIP times that noise.
        best, sigma = _best(y, seasons, math.inf)
        if sigma > 0:
            best, _ = _best(y, seasons, CLIP * sigma)
        return best

    def apply(
        self, params: Any, y: Array, seasons: Seasons, horizons: list[int], z: float
    ) -> Output:
        w: Weights = params
        state = _run(y, seasons, [w])
        errors = state.errors[0]
        sigma = robust_sigma(errors)
        factors = _interval_factors(w, seasons, horizons)
        out = Output()
        n = y.size
        for h in horizons:
            t = n - 1 + h
            seasonal = state.daily[0, t % seasons.daily]
            if seasons.weekly:
                seasonal += state.weekly[0, t % seasons.weekly]
            yhat = float(state.level[0] + h * state.trend[0] + seasonal)
            half = z * sigma * factors[h]
            out.forecasts[h] = (yhat, yhat - half, yhat + half)
        out.scores = normalised(errors, THRESHOLD, sigma, float(state.level[0]))
        return out
