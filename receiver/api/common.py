"""Helpers shared by the API modules: auth, parameters, JSON bodies, write jobs with clean
errors. Every 4xx they raise is a JSON body naming the field at fault."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from receiver.api.errors import JSONHTTPError
from receiver.pipeline.actions import ActionError, Actor
from receiver.runtime import RUNTIME, Runtime
from receiver.store.base import StoreError, Tx

R = TypeVar("R")
# API bodies are small (a comment); the webhook has its own, configurable cap.
MAX_BODY_BYTES = 64 * 1024
MAX_COMMENT_CHARS = 2000
# Eighteen digits always fit SQLite's signed 64-bit INTEGER.
_ID_RE = re.compile(r"[0-9]{1,18}")
_CHUNK = 1 << 16
# Which field a failed action's status points at (the path id, or the object's state).
_ACTION_FIELDS = {404: "id", 409: "state"}


def runtime(request: web.Request) -> Runtime:
    return request.app[RUNTIME]


def require(request: web.Request, role: str) -> Actor:
    """Authenticate the caller for `role` (401/403 JSON errors otherwise)."""
    return runtime(request).auth.require(request, role)


def int_param(request: web.Request, name: str) -> int:
    """A path parameter that must be a decimal id (ASCII digits, at most 18 of them)."""
    raw = request.match_info[name]
    if not _ID_RE.fullmatch(raw):
        raise JSONHTTPError(
            400, f"expected an integer id of at most 18 digits, got {raw[:32]!r}", field=name
        )
    return int(raw)


def limit_param(request: web.Request, default: int, maximum: int) -> int:
    """The `limit` query parameter: an integer 1..maximum (every list endpoint alike)."""
    raw = request.query.get("limit", str(default))
    if not re.fullmatch(r"[0-9]{1,9}", raw) or not 1 <= int(raw) <= maximum:
        raise JSONHTTPError(
            400, f"expected an integer 1..{maximum}, got {raw[:32]!r}", field="limit"
        )
    return int(raw)


def loads_json(raw: bytes) -> Any:
    """Decode a JSON document; ValueError for anything malformed, too deeply nested included."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("nesting too deep") from None


async def read_body(request: web.Request, cap: int = MAX_BODY_BYTES) -> bytes:
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


async def json_body(request: web.Request) -> dict[str, Any]:
    """An optional JSON object body (empty body → {}); 413, 415 or 400 JSON errors."""
    raw = await read_body(request)
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
    raw = await read_body(request)
    if raw.strip() and raw.strip() not in (b"{}", b"null"):
        raise JSONHTTPError(400, "this endpoint takes no request body", field="body")


def comment_of(body: dict[str, Any]) -> str:
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


async def act(request: web.Request, fn: Callable[[Tx, float], R]) -> R:
    """Run an action in the writer; ActionError → its status, StoreError → 503."""
    try:
        return await runtime(request).store.write(lambda tx: fn(tx, time.time()))
    except ActionError as exc:
        field = getattr(exc, "field", None) or _ACTION_FIELDS.get(exc.status)
        raise JSONHTTPError(exc.status, exc.message, field=field) from None
    except StoreError as exc:
        raise JSONHTTPError(503, f"store unavailable: {exc}") from None
