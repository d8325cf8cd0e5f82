"""Bearer tokens with roles, compared as SHA-256 digests in constant time.

Roles: `ingest` (post webhooks) stands alone; `admin` ⊇ `operator` ⊇ `viewer`.
With no tokens configured, auth is off (the server then refuses non-loopback
addresses unless started with --web.insecure) and every caller acts as `anonymous`.
Failed authentications are throttled per client address (`receiver.http.throttle`).
"""

from __future__ import annotations

import hashlib
import hmac
import re

import structlog
from aiohttp import web

from receiver.config import TokenConfig
from receiver.http.correlation import REQUEST_ID_KEY
from receiver.http.errors import JSONHTTPError
from receiver.http.throttle import FailureThrottle, client_key
from receiver.metrics import AUTH_FAILURES, AUTH_THROTTLED_ADDRESSES, AUTH_THROTTLED_REQUESTS
from receiver.model.actor import Actor

IMPLIED = {
    "ingest": {"ingest"},
    "viewer": {"viewer"},
    "operator": {"operator", "viewer"},
    "admin": {"admin", "operator", "viewer"},
}
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")
log = structlog.get_logger("receiver.http")
# Set by the incidents page (receiver.web) on its own requests once their session cookie
# (and, for a POST, CSRF token) checked out: `(name, roles)`. Only the page's handlers set
# it, so a cookie never authenticates an API request.
SESSION_IDENTITY = "web_session_identity"


class Authenticator:
    """Checks `Authorization: Bearer <token>` against the configured tokens."""

    def __init__(self, tokens: list[TokenConfig], throttle: FailureThrottle | None = None) -> None:
        """Raises ValueError for a token without a secret or sharing another's secret
        (config validation reports both; this guards other callers)."""
        self.throttle = throttle or FailureThrottle()
        self.entries: list[tuple[bytes, str, set[str]]] = []
        for t in tokens:
            digest = t.digest()
            if digest is None:
                raise ValueError(f"token {t.name!r} has no sha256 or token")
            for other, other_name, _ in self.entries:
                if hmac.compare_digest(other, digest):
                    raise ValueError(
                        f"token {t.name!r} has the same secret as token {other_name!r}"
                    )
            granted: set[str] = set()
            for role in t.roles:
                granted |= IMPLIED.get(role, set())
            self.entries.append((digest, t.name, granted))

    @property
    def enabled(self) -> bool:
        """Whether any token is configured (without one, auth is off)."""
        return bool(self.entries)

    def identify(self, token: str) -> tuple[str, set[str]] | None:
        """The token's name and roles; every entry is compared so timing reveals nothing."""
        digest = hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
        found: tuple[str, set[str]] | None = None
        for stored, name, roles in self.entries:
            if hmac.compare_digest(stored, digest):
                found = (name, roles)
        return found

    def require(self, request: web.Request, role: str) -> Actor:
        """The caller as an Actor holding `role`; raises 401/403 JSON errors otherwise, and
        429 while the caller's address is throttled for failed authentications. A request
        the incidents page vouched for (SESSION_IDENTITY) is judged by its session's roles."""
        correlation_id = str(request.get(REQUEST_ID_KEY, ""))
        session: tuple[str, set[str]] | None = request.get(SESSION_IDENTITY)
        if session is not None:
            name, roles = session
            if role not in roles:
                raise JSONHTTPError(403, f"token {name!r} lacks the {role!r} role")
            return Actor(name, role, correlation_id)
        if not self.enabled:
            return Actor("anonymous", role, correlation_id)
        client = client_key(request.remote)
        wait = self.throttle.retry_after(client)
        if wait is not None:
            AUTH_THROTTLED_REQUESTS.inc()
            error = JSONHTTPError(
                429,
                "too many failed authentications from this address",
                field="Authorization",
                hint=f"retry after {wait} s",
            )
            error.headers["Retry-After"] = str(wait)
            raise error
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            if header.strip():
                self._failed(client)
            raise JSONHTTPError(
                401,
                "missing bearer token",
                field="Authorization",
                hint="send Authorization: Bearer <token>",
            )
        token = token.strip()
        # RFC 6750 tokens are printable ASCII; raw header bytes arrive as surrogate escapes.
        who = self.identify(token) if _PRINTABLE_ASCII.fullmatch(token) else None
        if who is None:
            self._failed(client)
            raise JSONHTTPError(401, "invalid token", field="Authorization")
        name, roles = who
        if role not in roles:
            raise JSONHTTPError(403, f"token {name!r} lacks the {role!r} role")
        return Actor(name, role, correlation_id)

    def _failed(self, client: str) -> None:
        """Count a failed authentication (an absent header is not one: nothing was tried)."""
        AUTH_FAILURES.inc()
        if self.throttle.failed(client):
            AUTH_THROTTLED_ADDRESSES.inc()
            log.warning(
                "auth_throttled",
                client=client,
                failures=self.throttle.max_failures,
                window_seconds=self.throttle.window,
            )
