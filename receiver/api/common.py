"""Helpers shared by the API modules: auth, JSON bodies, write jobs with clean errors."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from receiver.api.errors import JSONHTTPError
from receiver.pipeline.actions import ActionError, Actor
from receiver.runtime import RUNTIME, Runtime
from receiver.store.base import StoreError, Tx

R = TypeVar("R")


def runtime(request: web.Request) -> Runtime:
    return request.app[RUNTIME]


def require(request: web.Request, role: str) -> Actor:
    """Authenticate the caller for `role` (401/403 JSON errors otherwise)."""
    return runtime(request).auth.require(request, role)


def int_param(request: web.Request, name: str) -> int:
    """A path parameter that must be a positive integer."""
    raw = request.match_info[name]
    if not raw.isdigit():
        raise JSONHTTPError(400, f"expected an integer, got {raw[:32]!r}", field=name)
    return int(raw)


async def json_body(request: web.Request) -> dict[str, Any]:
    """An optional JSON object body (empty body → {})."""
    raw = await request.content.read(1 << 16)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise JSONHTTPError(400, f"malformed JSON: {exc}", field="$") from None
    if not isinstance(data, dict):
        raise JSONHTTPError(400, "expected a JSON object", field="$")
    return data


def comment_of(body: dict[str, Any]) -> str:
    value = body.get("comment", "")
    if not isinstance(value, str):
        raise JSONHTTPError(400, "expected a string", field="comment")
    return value[:2000]


async def act(request: web.Request, fn: Callable[[Tx, float], R]) -> R:
    """Run an action in the writer; ActionError → its status, StoreError → 503."""
    try:
        return await runtime(request).store.write(lambda tx: fn(tx, time.time()))
    except ActionError as exc:
        raise JSONHTTPError(exc.status, exc.message) from None
    except StoreError as exc:
        raise JSONHTTPError(503, f"store unavailable: {exc}") from None
