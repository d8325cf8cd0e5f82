"""Request bodies read with a cap: anything larger is refused (413) without buffering it."""

from __future__ import annotations

from aiohttp import web

from receiver.http.errors import JSONHTTPError

_CHUNK = 1 << 16


async def read_capped(request: web.Request, cap: int) -> bytes:
    """The whole request body, or 413 naming `body` when it exceeds `cap` (never a prefix)."""
    length = request.content_length
    if length is not None and length > cap:
        raise JSONHTTPError(
            413, f"body of {length} bytes exceeds the {cap}-byte limit", field="body"
        )
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(_CHUNK):
        size += len(chunk)
        if size > cap:
            raise JSONHTTPError(413, f"body exceeds the {cap}-byte limit", field="body")
        chunks.append(chunk)
    return b"".join(chunks)
