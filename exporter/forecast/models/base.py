"""What a model is: `fit` estimates parameters from history; `apply` runs them on the
latest data, giving forecasts with intervals and an anomaly score per point.

Scores are normalised so that above 1 is anomalous: each model divides its deviation by
its own threshold times its own robust spread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
# 1.4826 * MAD estimates the standard deviation of normal data, robust to outliers.
MAD_TO_SIGMA = 1.4826
# Scores are capped so that a flat series' first wobble gives a large finite number.
MAX_SCORE = 1000.0


class FitError(Exception):
    """The model cannot be fitted to this series (too short, constant, ...)."""


@dataclass(frozen=True)
class Seasons:
    """Season lengths in steps: daily, and weekly when the history holds two weeks; and
    where the data starts, in steps since the Unix epoch, so that models with terms in
    absolute time (Fourier seasons, Prophet) keep their phase from one window to the next."""

    daily: int
    weekly: int | None
    start: int = 0

    @property
    def step(self) -> float:
        """Seconds per step."""
        return 86400 / self.daily

    @classmethod
    def for_history(cls, step: float, points: int, start: int = 0) -> Seasons:
        """The seasons a history of `points` steps of `step` seconds can support."""
        daily = max(1, round(86400 / step))
        weekly = 7 * daily
        return cls(daily=daily, weekly=weekly if points >= 2 * weekly else None, start=start)


@dataclass
class Output:
    """What one `apply` gives: per horizon (in steps) yhat/lower/upper, and per-point scores."""

    forecasts: dict[int, tuple[float, float, float]] = field(default_factory=dict)
    scores: Array = field(default_factory=lambda: np.zeros(0))


class Model:
    """Base class; subclasses set `name` and implement `fit` and `apply`."""

    name: ClassVar[str] = ""
    # Whether the model forecasts (else it only scores).
    forecasts: ClassVar[bool] = True

    def fit(self, y: Array, seasons: Seasons) -> Any:
        """Parameters estimated from `y` (NaN where missing); raises FitError."""
        raise NotImplementedError

    def apply(
        self, params: Any, y: Array, seasons: Seasons, horizons: list[int], z: float
    ) -> Output:
        """Forecasts `horizons` steps past the end of `y` with a `z`-sigma interval, and a
        score for each point of `y`."""
        raise NotImplementedError


def robust_sigma(values: Array) -> float:
    """MAD-based standard deviation of the finite values (0.0 when there are none)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0
    return float(MAD_TO_SIGMA * np.median(np.abs(finite - np.median(finite))))


def normalised(deviation: Array, threshold: float, sigma: float, level: float) -> Array:
    """|deviation| / (threshold * sigma), capped at MAX_SCORE; a zero sigma falls back to a
    tiny share of the series' level so a constant series still scores its first change."""
    scale = threshold * (sigma if sigma > 0 else max(abs(level) * 1e-6, 1e-12))
    return np.minimum(np.abs(deviation) / scale, MAX_SCORE)
