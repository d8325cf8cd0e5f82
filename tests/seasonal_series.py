"""Synthetic series with known daily and weekly seasonality, trend, noise, injected spikes
and level shifts (fixed seeds): the ground truth for the forecast tests and benchmark."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


@dataclass
class Synthetic:
    """`values` at `step`-second spacing; `anomalies` the indices of injected anomalies."""

    values: Array
    clean: Array  # the same series without the injected anomalies
    step: float
    anomalies: set[int] = field(default_factory=set)


def seasonal(
    points: int,
    step: float = 300.0,
    seed: int = 1,
    level: float = 100.0,
    trend_per_day: float = 0.5,
    daily: float = 10.0,
    weekly: float = 5.0,
    noise: float = 1.0,
) -> Synthetic:
    """Level + trend + a daily and a weekly sine + Gaussian noise; no anomalies yet."""
    rng = np.random.default_rng(seed)
    t = np.arange(points) * step
    values = (
        level
        + trend_per_day * t / 86400
        + daily * np.sin(2 * np.pi * t / 86400)
        + weekly * np.sin(2 * np.pi * t / (7 * 86400))
        + rng.normal(0.0, noise, points)
    )
    return Synthetic(values=values, clean=values.copy(), step=step)


def inject(
    series: Synthetic,
    seed: int,
    spikes: int,
    shifts: int,
    within: tuple[int, int],
    size: float = 12.0,
    shift_length: int = 12,
) -> Synthetic:
    """Add `spikes` one-point spikes and `shifts` level shifts of `shift_length` points, of
    `size` (in units of the noise), at random indices inside `within`; each anomalous point
    is recorded."""
    rng = np.random.default_rng(seed)
    lo, hi = within
    for index in rng.choice(np.arange(lo, hi), size=spikes, replace=False):
        series.values[index] += size * rng.choice([-1.0, 1.0])
        series.anomalies.add(int(index))
    for start in rng.choice(np.arange(lo, hi - shift_length), size=shifts, replace=False):
        series.values[start : start + shift_length] += size * 0.75
        series.anomalies.update(range(int(start), int(start) + shift_length))
    return series


def openmetrics(name: str, values: Iterable[float], start: float, step: float) -> str:
    """A gauge in OpenMetrics text, one sample per step from `start` (Unix seconds), for
    `promtool tsdb create-blocks-from openmetrics`; NaN values are written as NaN."""
    lines = [f"# TYPE {name} gauge"]
    for i, value in enumerate(values):
        text = "NaN" if math.isnan(value) else repr(float(value))
        lines.append(f"{name} {text} {start + i * step:.0f}")
    return "\n".join(lines) + "\n# EOF\n"
