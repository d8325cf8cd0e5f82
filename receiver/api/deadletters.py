"""Dead letters: list and replay (admin)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from receiver.api.bodies import no_body
from receiver.api.incidents import with_attempts
from receiver.api.params import int_param, limit_param
from receiver.api.writes import act
from receiver.http.state import app_state, require
from receiver.outbox.deadletters import dead_letters
from receiver.pipeline import actions
from receiver.store.base import Tx


def list_dead(tx: Tx, limit: int = 500) -> list[dict[str, Any]]:
    """Dead-lettered notifications with their attempts, newest first."""
    rows = dead_letters(tx, limit)
    return with_attempts(tx, rows)


async def get_list(request: web.Request) -> web.Response:
    require(request, "admin")
    limit = limit_param(request, default=500, maximum=5000)
    items = await app_state(request).store.read(lambda tx: list_dead(tx, limit))
    return web.json_response({"deadletters": items, "count": len(items)})


async def post_replay(request: web.Request) -> web.Response:
    actor = require(request, "admin")
    nid = int_param(request, "id")
    await no_body(request)
    ctx = app_state(request).ctx
    await act(request, lambda tx, now: actions.replay(tx, ctx, nid, actor, now))
    return web.json_response({"replayed": nid})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/deadletters", get_list)
    app.router.add_post("/api/v1/deadletters/{id}/replay", post_replay)
