"""The JSON API under /api/v1/. Each module in this package with a `setup(app)`
function adds its routes; new modules are picked up without editing this file."""

from __future__ import annotations

import importlib
import pkgutil

from aiohttp import web


def setup_all(app: web.Application) -> None:
    """Import every api module and let it add its routes."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        setup = getattr(module, "setup", None)
        if callable(setup):
            setup(app)
