"""Shared by the statsmodels models: whether the extra is installed, and statsmodels itself.

statsmodels pulls scipy and pandas (about 80 MB of wheels, about 100 MB of RSS once
imported), so it is imported on the first fit of a model that needs it, never with the
model modules: an exporter running only the built-in models does not pay for it.
"""

from __future__ import annotations

import importlib
import importlib.util
import warnings
from types import ModuleType
from typing import Any

import numpy as np

from exporter.forecast.models.base import Array

EXTRA = "needs the tocsin[forecast] extra (statsmodels)"


def installed() -> bool:
    """Whether statsmodels can be imported here (without importing it)."""
    try:
        return importlib.util.find_spec("statsmodels") is not None
    except (ImportError, ValueError):  # a broken install, or refused by an import hook
        return False


def tsa() -> ModuleType:
    """`statsmodels.tsa.api`, imported on first use."""
    return importlib.import_module("statsmodels.tsa.api")


def pandas() -> ModuleType:
    """pandas (which statsmodels brings), imported on first use."""
    return importlib.import_module("pandas")


def interpolated(y: Array) -> Array:
    """`y` with every NaN replaced by linear interpolation (for models that take no gaps)."""
    missing = np.isnan(y)
    if not missing.any():
        return y
    if missing.all():
        raise ValueError("no data")
    index = np.arange(y.size)
    return np.interp(index, index[~missing], y[~missing])


def quietly(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a statsmodels call with its convergence and frequency warnings silenced: the
    exporter reports fit quality through its metrics, not through Python warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args, **kwargs)
