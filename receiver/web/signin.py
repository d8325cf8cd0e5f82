"""Signing in with a token (identity = the token's name) and signing out.

The sign-in form carries its own CSRF token, a random value set both in a short-lived
cookie and in the form (double submit), so another site cannot sign a browser in as
someone else. Failed tokens count against the same per-address throttle the API uses.
"""

from __future__ import annotations

import re
import secrets
import time

from aiohttp import web

import receiver.web.sessions as sessions
from receiver.http.errors import JSONHTTPError
from receiver.http.state import app_state
from receiver.http.throttle import client_key
from receiver.metrics import AUTH_FAILURES
from receiver.web.forms import read_form
from receiver.web.guard import (
    cookie_secure,
    csrf_matches,
    current,
    page,
    posted,
    prefix,
    set_session_cookie,
)
from receiver.web.render import render

LOGIN_COOKIE = "tocsin_signin"
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]{1,512}")


def see_other(location: str) -> web.Response:
    """A 303 returned, not raised: a raised one reaches the browser without its cookies."""
    return web.Response(status=303, headers={"Location": location})


def _next(request: web.Request, raw: str) -> str:
    """Where to go after signing in: a path under the page's prefix, never elsewhere."""
    base = prefix(request)
    ok = raw.startswith(base + "/") and not raw.startswith("//") and "\\" not in raw
    return raw if ok else base + "/"


@page
async def form(request: web.Request) -> web.StreamResponse:
    """`GET {prefix}/signin` (without configured tokens there is no one to sign in as)."""
    if not app_state(request).auth.enabled or await current(request) is not None:
        raise web.HTTPSeeOther(_next(request, request.query.get("next", "")))
    token = secrets.token_urlsafe(24)
    context = {
        "prefix": prefix(request),
        "who": None,
        "csrf": token,
        "next": _next(request, request.query.get("next", "")),
        "error": request.query.get("error") == "1",
    }
    resp = await render("signin.html", context)
    resp.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=600,
        path=prefix(request) or "/",
        httponly=True,
        secure=cookie_secure(request),
        samesite="Strict",
    )
    return resp


@page
async def submit(request: web.Request) -> web.StreamResponse:
    """`POST {prefix}/signin` with `token`, `csrf` and `next`."""
    fields = await read_form(request)
    if not csrf_matches(request.cookies.get(LOGIN_COOKIE, ""), fields.get("csrf", "")):
        raise JSONHTTPError(403, "missing or wrong CSRF token", field="csrf")
    state = app_state(request)
    client = client_key(request.remote)
    wait = state.auth.throttle.retry_after(client)
    if wait is not None:
        error = JSONHTTPError(
            429, "too many failed sign-ins from this address", field="token",
            hint=f"retry after {wait} s",
        )  # fmt: skip
        error.headers["Retry-After"] = str(wait)
        raise error
    token = fields.get("token", "").strip()
    who = state.auth.identify(token) if _PRINTABLE_ASCII.fullmatch(token) else None
    if who is None:
        AUTH_FAILURES.inc()
        state.auth.throttle.failed(client)
        raise web.HTTPSeeOther(prefix(request) + "/signin?error=1")
    cookie, _ = await sessions.create(
        state.store, who[0], float(state.config.web.session_ttl), time.time()
    )
    resp = see_other(_next(request, fields.get("next", "")))
    set_session_cookie(request, resp, cookie)
    resp.del_cookie(LOGIN_COOKIE, path=prefix(request) or "/")
    return resp


@page
async def signout(request: web.Request) -> web.StreamResponse:
    """`POST {prefix}/signout` with `csrf`: the session is deleted, not just forgotten."""
    who, _ = await posted(request)
    await sessions.delete(app_state(request).store, who.cookie)
    resp = see_other(prefix(request) + "/signin")
    resp.del_cookie(sessions.COOKIE, path=prefix(request) or "/")
    return resp


def setup(app: web.Application, base: str) -> None:
    app.router.add_get(base + "/signin", form)
    app.router.add_post(base + "/signin", submit)
    app.router.add_post(base + "/signout", signout)
