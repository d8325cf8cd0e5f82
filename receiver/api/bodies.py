"""Request bodies of the API (small JSON objects, a comment); every 4xx is a JSON body
naming the field at fault."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from receiver.http.body import read_capped
from receiver.http.errors import JSONHTTPError

# API bodies are small (a comment); the webhook has its own, configurable cap.
MAX_BODY_BYTES = 64 * 1024
MAX_COMMENT_CHARS = 2000


def loads_json(raw: bytes) -> Any:
    """Decode a JSON document; ValueError for anything malformed, too deeply nested included."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("nesting too deep") from None


async def json_body(request: web.Request) -> dict[str, Any]:
    """An optional JSON object body (empty body → {}); 413, 415 or 400 JSON errors."""
    raw = await read_capped(request, MAX_BODY_BYTES)
    if not raw.strip():
        return {}
    if request.content_type != "application/json":
        raise JSONHTTPError(
            415,
            f"expected Content-Type application/json, got {request.content_type!r}",
            field="Content-Type",
        )
    try:
        data = loads_json(raw)
    except ValueError as exc:
        raise JSONHTTPError(400, f"malformed JSON: {exc}", field="$") from None
    if not isinstance(data, dict):
        raise JSONHTTPError(400, "expected a JSON object", field="$")
    return data


async def no_body(request: web.Request) -> None:
    """For endpoints that take no body: refuse one rather than ignore it."""
    raw = await read_capped(request, MAX_BODY_BYTES)
    if raw.strip() and raw.strip() not in (b"{}", b"null"):
        raise JSONHTTPError(400, "this endpoint takes no request body", field="body")


def comment_of(body: dict[str, Any]) -> str:
    """The body's optional `comment` ("" without one); 400 JSON errors for a non-string
    or one longer than MAX_COMMENT_CHARS."""
    value = body.get("comment", "")
    if not isinstance(value, str):
        raise JSONHTTPError(400, "expected a string", field="comment")
    if len(value) > MAX_COMMENT_CHARS:
        raise JSONHTTPError(
            400,
            f"expected at most {MAX_COMMENT_CHARS} characters, got {len(value)}",
            field="comment",
        )
    return value
