"""The forecast models on synthetic series with known seasonality and injected anomalies:
forecasts near the truth with intervals that hold it, scores above 1 where an anomaly was
injected and below it elsewhere, and a clear FitError when the history cannot support a fit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from exporter.forecast.models import models, unavailable_models
from exporter.forecast.models.base import FitError, Model, Seasons
from tests.conftest import in_ci
from tests.procs import REPO
from tests.seasonal_series import inject, seasonal

STEP = 300.0
HISTORY = 14 * 288
HORIZONS = [72, 288, 576]  # 6h, 24h, 48h
Z95 = 1.96
BUILTIN = ["holt_winters", "seasonal_naive", "robust_zscore", "iqr", "spike"]
# tocsin[forecast] (statsmodels) and tocsin[prophet]; the test extra installs both.
OPTIONAL = ["arima", "ets", "stl", "prophet"]
FORECASTERS = ["holt_winters", "seasonal_naive", "arima", "ets", "prophet"]
SCORERS = [*BUILTIN, *OPTIONAL]
# ETS here has only a daily season: it is tested on a series without a weekly one.
FORECAST_SHAPES = {"ets": {"weekly": 0.0}}


def model(name: str) -> Model:
    """The model, or a skip (a failure under CI) when its extra is not installed."""
    missing = unavailable_models()
    if name in missing:
        if in_ci():
            pytest.fail(f"{name}: {missing[name]} — required in CI")
        pytest.skip(f"{name}: {missing[name]}")
    return models()[name]()


def test_the_builtin_models_register_themselves() -> None:
    assert set(BUILTIN) <= set(models())
    assert not set(BUILTIN) & set(unavailable_models())


def test_without_the_extras_their_models_say_which_extra_they_need(tmp_path: Path) -> None:
    """A real interpreter in which statsmodels and prophet cannot be imported (a meta-path
    finder refuses them, as for uninstalled packages)."""
    code = (
        "import sys\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('statsmodels', 'prophet'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "from exporter.forecast.models import models, unavailable_models\n"
        "print(sorted(models()))\n"
        "print(sorted(unavailable_models().items()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    available, unavailable = out.stdout.splitlines()
    assert available == repr(sorted(BUILTIN))
    statsmodels = "needs the tocsin[forecast] extra (statsmodels)"
    expected = [(name, statsmodels) for name in ("arima", "ets", "stl")]
    expected.append(("prophet", "needs the tocsin[prophet] extra (prophet)"))
    assert unavailable == repr(sorted(expected))


@pytest.mark.parametrize("name", FORECASTERS)
def test_forecasts_are_close_and_the_interval_holds_the_truth(name: str) -> None:
    series = seasonal(HISTORY + max(HORIZONS), STEP, seed=11, **FORECAST_SHAPES.get(name, {}))
    history, future = series.values[:HISTORY], series.values[HISTORY:]
    seasons = Seasons.for_history(STEP, HISTORY)
    assert seasons.weekly == 2016
    m = model(name)
    out = m.apply(m.fit(history, seasons), history, seasons, HORIZONS, Z95)
    assert set(out.forecasts) == set(HORIZONS)
    for h, (yhat, lower, upper) in out.forecasts.items():
        truth = future[h - 1]
        assert lower < yhat < upper
        assert lower <= truth <= upper, (h, lower, truth, upper)
        assert abs(yhat - truth) / truth < 0.06, (h, yhat, truth)


# robust_zscore and iqr ignore seasonality by design: they are for level series.
SHAPES = {"robust_zscore": {"daily": 0.0, "weekly": 0.0, "trend_per_day": 0.0}}
SHAPES["iqr"] = SHAPES["robust_zscore"]


@pytest.mark.parametrize("name", SCORERS)
def test_an_injected_spike_scores_above_one_and_quiet_points_below(name: str) -> None:
    base = seasonal(HISTORY, STEP, seed=12, **SHAPES.get(name, {}))
    series = inject(base, seed=13, spikes=1, shifts=0, within=(HISTORY - 100, HISTORY - 10),
                    size=12.0)  # fmt: skip
    (spike,) = series.anomalies
    seasons = Seasons.for_history(STEP, HISTORY)
    m = model(name)
    out = m.apply(m.fit(series.values, seasons), series.values, seasons, [12], Z95)
    assert out.scores.shape == series.values.shape
    assert out.scores[spike] > 1
    quiet = out.scores[HISTORY - 600 : HISTORY - 110]
    assert np.nanmean(quiet > 1) < 0.01


def test_a_level_shift_keeps_its_holt_winters_score_while_it_lasts() -> None:
    series = inject(seasonal(HISTORY, STEP, seed=14), seed=15, spikes=0, shifts=1,
                    within=(HISTORY - 40, HISTORY - 13), size=20.0)  # fmt: skip
    seasons = Seasons.for_history(STEP, HISTORY)
    model = models()["holt_winters"]()
    out = model.apply(model.fit(series.values, seasons), series.values, seasons, [12], Z95)
    shifted = sorted(series.anomalies)
    assert (out.scores[shifted] > 1).all(), out.scores[shifted]


def test_gaps_do_not_stop_holt_winters() -> None:
    values = seasonal(HISTORY, STEP, seed=16).values
    values[np.random.default_rng(17).choice(HISTORY, HISTORY // 10, replace=False)] = np.nan
    seasons = Seasons.for_history(STEP, HISTORY)
    model = models()["holt_winters"]()
    out = model.apply(model.fit(values, seasons), values, seasons, HORIZONS, Z95)
    assert all(np.isfinite(b).all() for b in out.forecasts.values())


@pytest.mark.parametrize(
    ("name", "points", "message"),
    [
        ("seasonal_naive", 200, "needs more than one season"),
        ("holt_winters", 400, "needs at least 576 points"),
        ("robust_zscore", 5, "needs at least 8 points"),
        ("iqr", 5, "needs at least 8 points"),
        ("spike", 5, "needs at least"),
    ],
)
def test_too_short_a_history_is_a_fit_error(name: str, points: int, message: str) -> None:
    seasons = Seasons.for_history(STEP, points)
    with pytest.raises(FitError, match=message):
        models()[name]().fit(seasonal(points, STEP).values, seasons)


def test_an_empty_first_season_is_a_fit_error() -> None:
    values = seasonal(3 * 288, STEP).values
    values[:288] = np.nan
    with pytest.raises(FitError, match="first season holds no data"):
        models()["holt_winters"]().fit(values, Seasons.for_history(STEP, values.size))


def test_a_constant_series_scores_its_first_change() -> None:
    values = np.full(600, 5.0)
    values[-1] = 6.0
    seasons = Seasons.for_history(STEP, values.size)
    for name in ("robust_zscore", "iqr", "spike"):
        model = models()[name]()
        out = model.apply(model.fit(values, seasons), values, seasons, [1], Z95)
        assert np.isfinite(out.scores[-1]) and out.scores[-1] > 1, name
        assert out.scores[-2] < 1, name


@pytest.mark.parametrize("name", FORECASTERS)
def test_parameters_fitted_on_one_window_forecast_the_next(name: str) -> None:
    """Fit on a window, apply six hours later on the window that moved on: the seasons
    (and the trend) keep their phase, so the forecast is as good as from a fresh fit."""
    later = 72
    series = seasonal(HISTORY + later + 288, STEP, seed=18, **FORECAST_SHAPES.get(name, {}))
    first = series.values[:HISTORY]
    moved = series.values[later : HISTORY + later]
    truth = series.values[HISTORY + later + 288 - 1]
    origin = 5_000_000  # steps since the epoch at the first window's start
    m = model(name)
    params = m.fit(first, Seasons.for_history(STEP, HISTORY, origin))
    out = m.apply(params, moved, Seasons.for_history(STEP, HISTORY, origin + later), [288], Z95)
    yhat, lower, upper = out.forecasts[288]
    assert lower <= truth <= upper
    assert abs(yhat - truth) / truth < 0.05, (yhat, truth)
