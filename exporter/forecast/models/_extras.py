"""Shared by the models that need an extra (statsmodels, Prophet): whether it is installed,
and the package itself, imported on the first fit that needs it.

statsmodels pulls scipy and pandas (about 80 MB of wheels, about 100 MB of RSS once
imported) and Prophet adds cmdstanpy and Stan: importing them with the model modules would
make every forecast collector pay for them, so they are imported on first use only.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import warnings
from types import ModuleType
from typing import Any

import numpy as np

from exporter.forecast.models.base import Array

STATSMODELS = "needs the tocsin[forecast] extra (statsmodels)"
PROPHET = "needs the tocsin[prophet] extra (prophet)"


def installed(package: str) -> bool:
    """Whether `package` can be imported here (without importing it)."""
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):  # a broken install, or refused by an import hook
        return False


def tsa() -> ModuleType:
    """`statsmodels.tsa.api`, imported on first use."""
    return importlib.import_module("statsmodels.tsa.api")


def prophet() -> ModuleType:
    """The prophet package, imported on first use."""
    # Prophet says at ERROR that plotly is missing (only its plots need it), and cmdstanpy
    # logs every Stan run at INFO, through a handler of its own unless its logger already
    # has one: neither belongs in the exporter's log, whose root handler gets the rest.
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)
    stan = logging.getLogger("cmdstanpy")
    stan.addHandler(logging.NullHandler())
    stan.setLevel(logging.WARNING)
    return importlib.import_module("prophet")


def pandas() -> ModuleType:
    """pandas (which both extras bring), imported on first use."""
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
    """Run a library call with its convergence and frequency warnings silenced: the
    exporter reports fit quality through its metrics, not through Python warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args, **kwargs)
