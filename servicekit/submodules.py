"""Import every module of a package: how collectors, channels, API modules and commands
are found without a list to edit."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def import_submodules(package: ModuleType) -> list[ModuleType]:
    """Every direct submodule of `package`, imported, in name order.

    Names starting with `_` are private helpers and are left out.
    """
    return [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name)
        if not info.name.startswith("_")
    ]
