"""`GET {prefix}/static/...`: the page's stylesheet and script, shipped in the package
(no CDN, no build step)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"


def setup(app: web.Application, base: str) -> None:
    app.router.add_static(base + "/static", STATIC, follow_symlinks=False)
