"""Path and query parameters; a bad one is a 400 JSON error naming it."""

from __future__ import annotations

import re

from aiohttp import web

from receiver.http.errors import JSONHTTPError

# Eighteen digits always fit SQLite's signed 64-bit INTEGER.
_ID_RE = re.compile(r"[0-9]{1,18}")


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
