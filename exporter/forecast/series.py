"""A query_range answer as a regular grid of floats: NaN where Prometheus had no sample
(or the sample was NaN), short gaps filled in by linear interpolation."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from exporter.forecast.models.base import Array

# Gaps up to this many steps are interpolated; longer ones stay NaN, which every model
# tolerates, rather than inventing a straight line across a missing season.
MAX_FILL_STEPS = 6


@dataclass
class Grid:
    """`values[i]` is the series at `start + i * step`; `missing` the share that was absent."""

    values: Array
    start: float
    step: float
    missing: float

    @property
    def last(self) -> float | None:
        """The latest value, if one of the last few points has one (else it is stale)."""
        tail = self.values[-(MAX_FILL_STEPS + 1) :]
        present = tail[~np.isnan(tail)]
        return float(present[-1]) if present.size else None


def to_grid(samples: list[tuple[float, float]], start: float, step: float, points: int) -> Grid:
    """Place `samples` on `points` steps from `start`; samples off the grid are dropped."""
    values = np.full(points, np.nan)
    for ts, value in samples:
        i = round((ts - start) / step)
        if 0 <= i < points:
            values[i] = value
    values[~np.isfinite(values)] = np.nan
    missing = float(np.isnan(values).mean())
    return Grid(values=_fill_short_gaps(values), start=start, step=step, missing=missing)


def _fill_short_gaps(values: Array) -> Array:
    present = np.flatnonzero(~np.isnan(values))
    if present.size < 2:
        return values
    filled = values.copy()
    for left, right in itertools.pairwise(present):
        if 1 < right - left <= MAX_FILL_STEPS + 1:
            filled[left + 1 : right] = np.interp(
                np.arange(left + 1, right), [left, right], [values[left], values[right]]
            )
    return filled
