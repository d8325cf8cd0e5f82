"""Who is asking, and may they: the session cookie, CSRF tokens, security headers.

Roles come from the token's current configuration on every request (the session keeps
only the token's name), so a token removed from the config signs its sessions out and a
changed role applies at once. A request that passes is marked with SESSION_IDENTITY, so
the same `require(request, role)` the API uses decides what it may do.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web
from multidict import MultiDict

import receiver.web.sessions as sessions
from receiver.http.auth import IMPLIED, SESSION_IDENTITY
from receiver.http.errors import JSONHTTPError
from receiver.http.state import app_state
from receiver.web.forms import MAX_FIELDS, read_form

PREFIX = web.AppKey("web_prefix", str)
ANONYMOUS = "anonymous"
# No inline script or style anywhere; every asset is served from here.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Person:
    """The signed-in caller: token name, the roles it holds now, its session."""

    name: str
    roles: frozenset[str]
    csrf: str
    cookie: str

    @property
    def can_operate(self) -> bool:
        """Whether ack, unack and resolve are allowed (the API's `operator` role)."""
        return "operator" in self.roles

    @property
    def is_admin(self) -> bool:
        """Whether dead letters and channel tests are allowed (the API's `admin` role)."""
        return "admin" in self.roles


def prefix(request: web.Request) -> str:
    """The page's path prefix ("" at the root)."""
    return request.app[PREFIX]


def page(handler: Handler) -> Handler:
    """Give a page handler's answers (errors included) the security headers."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            resp = await handler(request)
        except web.HTTPException as exc:
            exc.headers.update(SECURITY_HEADERS)
            raise
        resp.headers.update(SECURITY_HEADERS)
        return resp

    return wrapped


def roles_of(request: web.Request, name: str) -> frozenset[str] | None:
    """The roles the named token holds now; None if no such token is configured."""
    auth = app_state(request).auth
    if not auth.enabled:
        return frozenset(IMPLIED["admin"]) if name == ANONYMOUS else None
    found = [roles for _, entry_name, roles in auth.entries if entry_name == name]
    return frozenset().union(*found) if found else None


def cookie_secure(request: web.Request) -> bool:
    """Whether cookies get `Secure`: under TLS, or when people reach us by https (a proxy)."""
    return request.secure or app_state(request).config.web.external_url.startswith("https://")


def set_session_cookie(request: web.Request, resp: web.StreamResponse, cookie: str) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, Secure under TLS, scoped to the page."""
    cfg = app_state(request).config.web
    resp.set_cookie(
        sessions.COOKIE,
        cookie,
        max_age=int(float(cfg.session_ttl)),
        path=prefix(request) or "/",
        httponly=True,
        secure=cookie_secure(request),
        samesite="Strict",
    )


async def current(request: web.Request, open_anonymous: bool = False) -> Person | None:
    """The caller's live session as a Person (None without one). Without configured
    tokens there is nobody to sign in as: with `open_anonymous` (a page being opened), a
    session for `anonymous` is opened, which carries the CSRF token."""
    state = app_state(request)
    now = time.time()
    cookie = request.cookies.get(sessions.COOKIE, "")
    found = await sessions.lookup(state.store, cookie, now)
    if found is None and open_anonymous and not state.auth.enabled:
        cookie, found = await sessions.create(
            state.store, ANONYMOUS, float(state.config.web.session_ttl), now
        )
        request["web_new_cookie"] = cookie
    if found is None:
        return None
    roles = roles_of(request, found.name)
    if roles is None:
        return None
    request[SESSION_IDENTITY] = (found.name, set(roles))
    return Person(found.name, roles, found.csrf, cookie)


def finish(request: web.Request, resp: web.StreamResponse) -> web.StreamResponse:
    """Hand a freshly opened anonymous session's cookie to the browser."""
    cookie = request.get("web_new_cookie")
    if cookie:
        set_session_cookie(request, resp, cookie)
    return resp


async def signed_in(request: web.Request) -> Person:
    """The caller, or a redirect to the sign-in page that comes back here afterwards."""
    who = await current(request, open_anonymous=True)
    if who is None:
        target = prefix(request) + "/signin?next=" + quote(request.path_qs, safe="")
        raise web.HTTPSeeOther(target)
    return who


def csrf_matches(expected: str, given: str) -> bool:
    """Constant-time comparison of CSRF tokens (an empty one never matches)."""
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())


async def posted(
    request: web.Request, max_fields: int = MAX_FIELDS
) -> tuple[Person, MultiDict[str]]:
    """A state-changing request's caller and form, once its CSRF token matched:
    401 without a session, 403 naming `csrf` for a missing or wrong token."""
    who = await current(request)
    if who is None:
        raise JSONHTTPError(401, "not signed in", field="session", hint="sign in again")
    form = await read_form(request, max_fields)
    if not csrf_matches(who.csrf, form.get("csrf", "")):
        raise JSONHTTPError(403, "missing or wrong CSRF token", field="csrf")
    return who, form
