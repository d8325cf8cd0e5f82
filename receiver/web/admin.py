"""Admins only, as in the API: dead letters with replay, and a test notification per
channel with its first attempt's (redacted) answer."""

from __future__ import annotations

from aiohttp import web

from receiver.api.channels import queue_test, wait_first_attempt
from receiver.api.deadletters import list_dead
from receiver.api.params import int_param
from receiver.api.writes import act
from receiver.http.errors import JSONHTTPError
from receiver.http.state import app_state, require
from receiver.pipeline import actions
from receiver.web.guard import finish, page, posted, prefix, signed_in
from receiver.web.render import render

_DEAD_SHOWN = 500
_TEST_WAIT = 30.0


@page
async def overview(request: web.Request) -> web.StreamResponse:
    """`GET {prefix}/admin`: dead letters and channels."""
    who = await signed_in(request)
    require(request, "admin")
    state = app_state(request)
    dead = await state.store.read(lambda tx: list_dead(tx, _DEAD_SHOWN))
    context = {
        "prefix": prefix(request),
        "who": who,
        "dead": dead,
        "channels": sorted(state.config.channels.values(), key=lambda c: c.name),
        "result": None,
    }
    return finish(request, await render("admin.html", context))


@page
async def replay(request: web.Request) -> web.StreamResponse:
    """`POST {prefix}/deadletters/{id}/replay` with `csrf`."""
    await posted(request)
    actor = require(request, "admin")
    nid = int_param(request, "id")
    ctx = app_state(request).ctx
    await act(request, lambda tx, now: actions.replay(tx, ctx, nid, actor, now))
    raise web.HTTPSeeOther(prefix(request) + "/admin")


@page
async def channel_test(request: web.Request) -> web.StreamResponse:
    """`POST {prefix}/channels/{name}/test` with `csrf`: send one, show its first attempt."""
    who, _ = await posted(request)
    actor = require(request, "admin")
    state = app_state(request)
    name = request.match_info["name"]
    if name not in state.config.channels:
        raise JSONHTTPError(404, f"unknown channel {name!r}", field="name")
    nid = await act(request, lambda tx, now: queue_test(tx, state.ctx, name, actor, now))
    doc = await wait_first_attempt(request, nid, _TEST_WAIT)
    dead = await state.store.read(lambda tx: list_dead(tx, _DEAD_SHOWN))
    context = {
        "prefix": prefix(request),
        "who": who,
        "dead": dead,
        "channels": sorted(state.config.channels.values(), key=lambda c: c.name),
        "result": {"channel": name, "notification_id": nid, **doc},
    }
    return await render("admin.html", context)


def setup(app: web.Application, base: str) -> None:
    app.router.add_get(base + "/admin", overview)
    app.router.add_post(base + "/deadletters/{id}/replay", replay)
    app.router.add_post(base + "/channels/{name}/test", channel_test)
