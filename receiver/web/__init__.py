"""The incidents page, served by the receiver itself under `web.route_prefix`.

Each module here with a `setup(app, prefix)` adds its routes, found the way the API's
modules are, so a new page touches one file.
"""

from __future__ import annotations

import sys

from aiohttp import web

from receiver.http.state import APP_STATE
from receiver.web.flags import route_prefix
from receiver.web.guard import PREFIX, Handler
from servicekit.submodules import import_submodules


def setup(app: web.Application) -> None:
    """Add every page module's routes under the configured prefix."""
    cfg = app[APP_STATE].config.web
    base = route_prefix(cfg.external_url, cfg.route_prefix)
    app[PREFIX] = base
    if base:
        app.router.add_get(base, _to_root(base))
    for module in import_submodules(sys.modules[__name__]):
        setup_routes = getattr(module, "setup", None)
        if callable(setup_routes):
            setup_routes(app, base)


def _to_root(base: str) -> Handler:
    async def redirect(_: web.Request) -> web.StreamResponse:
        raise web.HTTPMovedPermanently(base + "/")

    return redirect
