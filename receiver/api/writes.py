"""Actions run as write jobs, their failures answered as JSON errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from aiohttp import web

from receiver.http.errors import JSONHTTPError
from receiver.http.state import app_state
from receiver.pipeline.actions import ActionError
from receiver.store.base import StoreError, Tx

R = TypeVar("R")
# Which field a failed action's status points at (the path id, or the object's state).
_ACTION_FIELDS = {404: "id", 409: "state"}


async def act(request: web.Request, fn: Callable[[Tx, float], R]) -> R:
    """Run an action in the writer; ActionError → its status, StoreError → 503."""
    try:
        return await app_state(request).store.write(lambda tx: fn(tx, time.time()))
    except ActionError as exc:
        field = getattr(exc, "field", None) or _ACTION_FIELDS.get(exc.status)
        raise JSONHTTPError(exc.status, exc.message, field=field) from None
    except StoreError as exc:
        raise JSONHTTPError(503, f"store unavailable: {exc}") from None
