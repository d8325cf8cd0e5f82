"""One incident: alerts, links, timeline, notifications with attempts, audit; and the
ack / unack / resolve forms."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from receiver.api.bodies import MAX_COMMENT_CHARS
from receiver.api.incidents import incident_detail
from receiver.api.params import int_param
from receiver.api.writes import act
from receiver.http.errors import JSONHTTPError
from receiver.http.state import app_state, require
from receiver.model.snapshot import iso
from receiver.pipeline import actions
from receiver.store.base import Tx
from receiver.web.guard import finish, page, posted, prefix, signed_in
from receiver.web.links import links_of
from receiver.web.render import render

ACTIONS = {"ack": actions.ack, "unack": actions.unack, "resolve": actions.manual_resolve}


def audit_of(tx: Tx, incident_id: int) -> list[dict[str, Any]]:
    """The audit entries about one incident, oldest first."""
    rows = tx.all(
        "SELECT at, actor, role, action, detail FROM audit WHERE target = ? ORDER BY id",
        (f"incident/{incident_id}",),
    )
    for r in rows:
        r["at"] = iso(r["at"])
        r["detail"] = json.loads(r["detail"])
    return rows


def _read(tx: Tx, incident_id: int) -> dict[str, Any] | None:
    doc = incident_detail(tx, incident_id)
    if doc is not None:
        doc["audit"] = audit_of(tx, incident_id)
    return doc


@page
async def detail(request: web.Request) -> web.StreamResponse:
    """`GET {prefix}/incidents/{id}`."""
    who = await signed_in(request)
    require(request, "viewer")
    incident_id = int_param(request, "id")
    doc = await app_state(request).store.read(lambda tx: _read(tx, incident_id))
    if doc is None:
        raise JSONHTTPError(404, f"incident {incident_id} not found", field="id")
    context = {
        "prefix": prefix(request),
        "who": who,
        "incident": doc,
        "links": links_of(doc, app_state(request).config.grafana_url),
        "max_comment": MAX_COMMENT_CHARS,
    }
    return finish(request, await render("detail.html", context))


def _action(name: str) -> Any:
    fn = ACTIONS[name]

    @page
    async def handler(request: web.Request) -> web.StreamResponse:
        """`POST {prefix}/incidents/{id}/<action>` with `csrf` and an optional `comment`."""
        _, form = await posted(request)
        actor = require(request, "operator")
        incident_id = int_param(request, "id")
        comment = form.get("comment", "")
        if len(comment) > MAX_COMMENT_CHARS:
            raise JSONHTTPError(
                400, f"expected at most {MAX_COMMENT_CHARS} characters", field="comment"
            )
        ctx = app_state(request).ctx
        await act(request, lambda tx, now: fn(tx, ctx, incident_id, actor, comment, now))
        raise web.HTTPSeeOther(f"{prefix(request)}/incidents/{incident_id}")

    return handler


def setup(app: web.Application, base: str) -> None:
    app.router.add_get(base + "/incidents/{id}", detail)
    for name in ACTIONS:
        app.router.add_post(f"{base}/incidents/{{id}}/{name}", _action(name))
