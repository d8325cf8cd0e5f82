"""Forecast and anomaly models, one module each; importing a module registers its model.

A model whose library is missing registers itself as unavailable instead (with the extra
that provides it), so the collector runs the others and says which it cannot run.
"""

from __future__ import annotations

import functools
import sys

from exporter.forecast.models.base import Model
from servicekit.submodules import import_submodules

_REGISTRY: dict[str, type[Model]] = {}
_UNAVAILABLE: dict[str, str] = {}


def register_model(cls: type[Model]) -> type[Model]:
    """Class decorator that makes a model known by its name."""
    if not cls.name or cls.name in _REGISTRY:
        raise ValueError(f"model {cls.name!r} has no name or is registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def unavailable(name: str, why: str) -> None:
    """Record a model that cannot run here, and why (the extra to install)."""
    _UNAVAILABLE[name] = why


@functools.cache
def load_all() -> None:
    """Import every model module once, so each registers itself."""
    import_submodules(sys.modules[__name__])


def models() -> dict[str, type[Model]]:
    """The models that can run, by name."""
    load_all()
    return dict(_REGISTRY)


def unavailable_models() -> dict[str, str]:
    """Models known but not runnable here, by name, with the reason."""
    load_all()
    return dict(_UNAVAILABLE)
