"""`GET {prefix}/events`: the API's Server-Sent Events stream for a signed-in browser.

EventSource cannot send an Authorization header, so the session cookie vouches for the
caller; the stream itself (its event format, ids and resumption) is the API's own.
"""

from __future__ import annotations

from aiohttp import web

from receiver.api import events
from receiver.http.errors import JSONHTTPError
from receiver.web.guard import current


async def stream(request: web.Request) -> web.StreamResponse:
    """The incident change stream, once the session checks out (401 otherwise)."""
    if await current(request) is None:
        raise JSONHTTPError(401, "not signed in", field="session")
    return await events.stream(request)


def setup(app: web.Application, base: str) -> None:
    app.router.add_get(base + "/events", stream)
