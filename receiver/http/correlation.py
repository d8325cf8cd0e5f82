"""Correlation ids and JSON errors for every request: take X-Request-ID (if sane) or make
one, bind it for every log line of the request, and answer any error as JSON."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from receiver.http.errors import ClientAborted, JSONHTTPError, json_error

log = structlog.get_logger("receiver.http")
# Where the request's correlation id is kept on the request.
REQUEST_ID_KEY = "correlation_id"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def correlation(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Take X-Request-ID (if sane) or make one; bind it for every log line of the request."""
    given = request.headers.get("X-Request-ID", "")
    cid = given if _REQUEST_ID_RE.match(given) else uuid.uuid4().hex
    request[REQUEST_ID_KEY] = cid
    close = False
    with structlog.contextvars.bound_contextvars(correlation_id=cid):
        try:
            resp = await handler(request)
        except web.HTTPException as exc:
            close = isinstance(exc, JSONHTTPError) and exc.close_connection
            if exc.content_type == "application/json" and exc.text:
                resp = web.Response(status=exc.status, text=exc.text, content_type=exc.content_type)
            else:
                resp = json_error(exc.status, exc.reason)
            # The error's own headers (Retry-After of a 429, Allow of a 405) go along.
            for name, value in exc.headers.items():
                if name.lower() not in ("content-type", "content-length"):
                    resp.headers.add(name, value)
        except ClientAborted:
            # Already logged (one line) and counted where the body was read; this answer
            # only gives aiohttp something to drop, as the client has gone.
            resp = json_error(400, "client closed the connection mid-body", field="body")
        except Exception:
            log.exception("unhandled_error", path=request.path)
            resp = json_error(500, "internal error; see the receiver log", correlation_id=cid)
        if not resp.prepared:
            resp.headers["X-Request-ID"] = cid
        if close:
            await _answer_and_close(request, resp)
        return resp


async def _answer_and_close(request: web.Request, resp: web.StreamResponse) -> None:
    """Send `resp` now, then close the connection (its write buffer is flushed first)."""
    resp.force_close()
    await resp.prepare(request)
    await resp.write_eof()
    request.protocol.force_close()
