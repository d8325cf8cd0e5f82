"""JSON error answers: every 4xx/5xx carries `{"error": ..., "field": ...}`."""

from __future__ import annotations

import json

from aiohttp import web


def json_error(status: int, message: str, field: str | None = None, **extra: str) -> web.Response:
    """A JSON error response (returned or raised as an HTTPException)."""
    doc: dict[str, object] = {"error": message, "status": status}
    if field is not None:
        doc["field"] = field
    doc.update(extra)
    return web.Response(status=status, text=json.dumps(doc), content_type="application/json")


class JSONHTTPError(web.HTTPException):
    """Raise to answer with a JSON error body."""

    def __init__(self, status: int, message: str, field: str | None = None, **extra: str) -> None:
        self.status_code = status
        doc: dict[str, object] = {"error": message, "status": status}
        if field is not None:
            doc["field"] = field
        doc.update(extra)
        super().__init__(text=json.dumps(doc), content_type="application/json")
