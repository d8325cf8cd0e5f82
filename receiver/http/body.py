"""Request bodies read with a cap and a deadline: a body larger than the cap is refused
(413) without buffering it, one not received within `web.body_read_timeout` is answered
408 and its connection closed, one that cannot be decoded (a corrupt gzip stream, broken
chunked framing) is a 400 naming `body`, and a client that leaves mid-body is reported as
`ClientAborted`, not as a server error."""

from __future__ import annotations

import asyncio

import structlog
from aiohttp import web

from receiver.http.errors import ClientAborted, JSONHTTPError
from receiver.http.state import app_state
from receiver.metrics import REQUEST_BODIES_INCOMPLETE

log = structlog.get_logger("receiver.http")
_CHUNK = 1 << 16


async def read_capped(request: web.Request, cap: int) -> bytes:
    """The whole request body, or 413 naming `body` when it exceeds `cap` (never a
    prefix), 408 when it is not all in within the configured body read timeout, 400 when
    it cannot be decoded; `ClientAborted` when the client goes away mid-body."""
    length = request.content_length
    if length is not None and length > cap:
        raise JSONHTTPError(
            413, f"body of {length} bytes exceeds the {cap}-byte limit", field="body"
        )
    timeout = float(app_state(request).config.web.body_read_timeout)
    try:
        async with asyncio.timeout(timeout):
            return await _read(request, cap)
    except TimeoutError:
        REQUEST_BODIES_INCOMPLETE.labels("timeout").inc()
        log.warning("request_body_timeout", path=request.path, timeout=timeout)
        # Closed after the answer: reading on (aiohttp lingers up to 10 s to drain an
        # unread body) would hand a trickling client the socket for longer.
        raise JSONHTTPError(
            408, f"body not received within {timeout:g}s", field="body", close=True
        ) from None
    except web.RequestPayloadError as exc:
        # Closed after the answer: the stream cannot be parsed on, and aiohttp's lingering
        # read of the rest would fail again (and log it as an unhandled exception).
        detail = getattr(exc.__cause__, "message", "") or " ".join(str(exc).split())
        raise JSONHTTPError(
            400, f"body could not be read: {detail}", field="body", close=True
        ) from None
    except ConnectionError as exc:
        REQUEST_BODIES_INCOMPLETE.labels("client_abort").inc()
        log.warning("request_body_aborted", path=request.path, error=str(exc))
        raise ClientAborted(request.path) from None


async def _read(request: web.Request, cap: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(_CHUNK):
        size += len(chunk)
        if size > cap:
            raise JSONHTTPError(413, f"body exceeds the {cap}-byte limit", field="body")
        chunks.append(chunk)
    return b"".join(chunks)
