"""The audit log (admin)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from receiver.api.params import limit_param
from receiver.http.state import app_state, require
from receiver.model.snapshot import iso
from receiver.store.base import Tx


def list_audit(tx: Tx, limit: int) -> list[dict[str, Any]]:
    """Newest first."""
    rows = tx.all("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))
    for r in rows:
        r["at"] = iso(r["at"])
        r["detail"] = json.loads(r["detail"])
    return rows


async def get_list(request: web.Request) -> web.Response:
    require(request, "admin")
    limit = limit_param(request, default=200, maximum=5000)
    items = await app_state(request).store.read(lambda tx: list_audit(tx, limit))
    return web.json_response({"audit": items, "count": len(items)})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/audit", get_list)
