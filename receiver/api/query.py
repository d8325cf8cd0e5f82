"""Query parameters an operation does not declare in the OpenAPI document are refused
(400 naming them) rather than ignored: `?sate=firing` would otherwise list every incident
as if no filter had been asked for."""

from __future__ import annotations

from aiohttp import web

from receiver.api.openapi import query_parameters
from receiver.http.correlation import Handler
from receiver.http.errors import JSONHTTPError

_NAME_MAX = 64
# A scrape config's `params:` and probe checks that add a cache-buster are normal for
# these, and they take no parameters whose misspelling could change an answer.
_LENIENT = ("/metrics", "/-/")


@web.middleware
async def known_query_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer 400 naming the first unknown query parameter (and listing every one)."""
    info = request.match_info
    if request.query and info.http_exception is None:
        canonical = info.route.resource.canonical if info.route.resource else ""
        if canonical.startswith(_LENIENT):
            return await handler(request)
        allowed = query_parameters(canonical, request.method)
        unknown = sorted(set(request.query) - allowed) if allowed is not None else []
        # Names are clipped: the whole URL is the caller's, and may be kilobytes long.
        unknown = [name[:_NAME_MAX] for name in unknown]
        if unknown:
            expected = ", ".join(sorted(allowed or ())) or "none"
            raise JSONHTTPError(
                400,
                f"unknown query parameter {', '.join(map(repr, unknown))}"
                f" (this endpoint takes: {expected})",
                field=unknown[0],
            )
    return await handler(request)


def setup(app: web.Application) -> None:
    # Appended after the service's own middleware (correlation ids, JSON errors), so the
    # refusal is answered and logged like every other 400.
    app.middlewares.append(known_query_only)
