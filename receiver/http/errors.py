"""JSON error answers: every 4xx/5xx carries `{"error": ..., "field": ...}`; and the one
way a request ends with nobody to answer (`ClientAborted`)."""

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
    """Raise to answer with a JSON error body; `close=True` closes the connection right
    after the answer, without reading the rest of the request body first."""

    def __init__(
        self,
        status: int,
        message: str,
        field: str | None = None,
        *,
        close: bool = False,
        **extra: str,
    ) -> None:
        self.status_code = status
        self.close_connection = close
        doc: dict[str, object] = {"error": message, "status": status}
        if field is not None:
            doc["field"] = field
        doc.update(extra)
        super().__init__(text=json.dumps(doc), content_type="application/json")


class ClientAborted(Exception):
    """The client closed the connection before its body was complete: nobody is left to
    answer, and it is the client's doing, so it is neither a 4xx nor a 5xx."""
