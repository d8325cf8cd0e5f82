"""The page a signed action link opens: `GET` confirms, only its `POST` acts.

Mail scanners and chat link previews fetch every URL they see, so opening a link never
changes anything; the page carries a form whose POST (with its CSRF token, a random value
in a short-lived cookie and in the form, as on the sign-in page) takes the action,
through the same `receiver.pipeline.actions` the API uses, audited with the link's
recipient as actor and its channel. The link itself is the credential: no sign-in, and
each link acts once (`receiver.actionlinks.replay`).

Refusals (altered, expired, another incident's, used) are an HTML page for a browser and
a JSON error for anything else, both naming what was wrong.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any

from aiohttp import web

from receiver.actionlinks import replay
from receiver.actionlinks.from_config import link_signer
from receiver.actionlinks.signing import Claims, LinkRefused, LinkSigner
from receiver.api.params import int_param
from receiver.http.correlation import REQUEST_ID_KEY
from receiver.http.errors import JSONHTTPError
from receiver.http.state import app_state
from receiver.model.actor import Actor
from receiver.pipeline import actions
from receiver.store.base import StoreError, Tx
from receiver.web.forms import read_form
from receiver.web.guard import cookie_secure, csrf_matches, page, prefix
from receiver.web.render import render

CSRF_COOKIE = "tocsin_act"
# Long enough to read the page and decide; a later POST asks for a reload.
_CSRF_AGE = 600
_DONE = {"ack": "acknowledged", "resolve": "resolved"}
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32}")
_VERB = {"ack": "Acknowledge", "resolve": "Resolve"}
_ACTIONS = {"ack": actions.ack, "resolve": actions.manual_resolve}


def _page(request: web.Request, **values: Any) -> dict[str, Any]:
    # The page template is rendered strictly: every variable it may read is set.
    return {"prefix": prefix(request), "who": None, "error": None, "done": None, **values}


def _signer(request: web.Request) -> LinkSigner:
    signer = link_signer(app_state(request).config)
    if signer is None:
        raise JSONHTTPError(404, "action links are not configured", field="action_links")
    return signer


def _wants_html(request: web.Request) -> bool:
    return "text/html" in request.headers.get("Accept", "")


async def _refuse(
    request: web.Request, status: int, message: str, field: str
) -> web.StreamResponse:
    if not _wants_html(request):
        raise JSONHTTPError(status, message, field=field)
    return await render(
        "actionlink.html", _page(request, error=message, field=field), status=status
    )


def _summary(tx: Tx, incident_id: int) -> dict[str, Any] | None:
    row = tx.one(
        "SELECT id, state, common_labels, common_annotations FROM incidents WHERE id = ?",
        (incident_id,),
    )
    if row is None:
        return None
    labels, annotations = json.loads(row["common_labels"]), json.loads(row["common_annotations"])
    return {
        "id": row["id"],
        "state": row["state"],
        "alertname": labels.get("alertname", ""),
        "summary": annotations.get("summary", ""),
    }


def _used(tx: Tx, nonce: str) -> bool:
    return tx.one("SELECT 1 AS used FROM action_link_nonces WHERE nonce = ?", (nonce,)) is not None


@page
async def confirm(request: web.Request) -> web.StreamResponse:
    """`GET {prefix}/act/{id}?t=<token>`: what the link would do, and a button to do it."""
    incident_id = int_param(request, "id")
    token = request.query.get("t", "")
    try:
        claims = _signer(request).verify(token, incident_id, time.time())
    except LinkRefused as exc:
        return await _refuse(request, exc.status, exc.message, exc.field)
    store = app_state(request).store
    incident, used = await store.read(
        lambda tx: (_summary(tx, incident_id), _used(tx, claims.nonce))
    )
    if incident is None:
        return await _refuse(request, 404, f"incident {incident_id} not found", "id")
    if used:
        return await _refuse(request, 409, "the link has been used already", "t")
    # A second tab (or a reload) keeps the first one's token, so either form works.
    csrf = request.cookies.get(CSRF_COOKIE, "")
    if not _TOKEN_SHAPE.fullmatch(csrf):
        csrf = secrets.token_urlsafe(24)
    context = _page(
        request, incident=incident, claims=claims, verb=_VERB[claims.action], token=token, csrf=csrf
    )
    resp = await render("actionlink.html", context)
    resp.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=_CSRF_AGE,
        path=f"{prefix(request)}/act/{incident_id}",
        httponly=True,
        secure=cookie_secure(request),
        samesite="Strict",
    )
    return resp


class _Replayed(Exception):
    """The link's nonce was used before (raised inside the write, so nothing is kept)."""


def _take(tx: Tx, request: web.Request, claims: Claims, actor: Actor, now: float) -> None:
    if not replay.consume(tx, claims.nonce, claims.expires, now):
        raise _Replayed
    ctx = app_state(request).ctx
    _ACTIONS[claims.action](tx, ctx, claims.incident, actor, "", now)


@page
async def submit(request: web.Request) -> web.StreamResponse:
    """`POST {prefix}/act/{id}` with `t` and `csrf`: take the link's action, once."""
    incident_id = int_param(request, "id")
    form = await read_form(request)
    if not csrf_matches(request.cookies.get(CSRF_COOKIE, ""), form.get("csrf", "")):
        raise JSONHTTPError(
            403, "missing or wrong CSRF token", field="csrf", hint="open the link again"
        )
    try:
        claims = _signer(request).verify(form.get("t", ""), incident_id, time.time())
    except LinkRefused as exc:
        return await _refuse(request, exc.status, exc.message, exc.field)
    actor = Actor(claims.recipient, "link", str(request.get(REQUEST_ID_KEY, "")), claims.channel)
    try:
        await app_state(request).store.write(
            lambda tx: _take(tx, request, claims, actor, time.time())
        )
    except _Replayed:
        return await _refuse(request, 409, "the link has been used already", "t")
    except actions.ActionError as exc:
        field = "id" if exc.status == 404 else "state"
        return await _refuse(request, exc.status, exc.message, field)
    except StoreError as exc:
        raise JSONHTTPError(503, f"store unavailable: {exc}") from None
    done = {
        "incident": claims.incident,
        "action": claims.action,
        "state": _DONE[claims.action],
        "actor": claims.recipient,
        "channel": claims.channel,
    }
    if not _wants_html(request):
        resp: web.StreamResponse = web.json_response(done)
    else:
        resp = await render("actionlink.html", _page(request, done=done))
    resp.del_cookie(CSRF_COOKIE, path=f"{prefix(request)}/act/{incident_id}")
    return resp


def setup(app: web.Application, base: str) -> None:
    app.router.add_get(base + "/act/{id}", confirm)
    app.router.add_post(base + "/act/{id}", submit)
