"""The JSON API under /api/v1/. Each module in this package with a `setup(app)`
function adds its routes; new modules are picked up without editing this file."""

from __future__ import annotations

import sys

from aiohttp import web

from servicekit.submodules import import_submodules


def setup_all(app: web.Application) -> None:
    """Import every api module and let it add its routes."""
    for module in import_submodules(sys.modules[__name__]):
        setup = getattr(module, "setup", None)
        if callable(setup):
            setup(app)
