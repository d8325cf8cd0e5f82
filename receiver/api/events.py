"""`GET /api/v1/events`: a Server-Sent Events stream of incident changes (viewer)."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from receiver.api.common import require, runtime

_KEEPALIVE = 15.0


async def stream(request: web.Request) -> web.StreamResponse:
    require(request, "viewer")
    hub = runtime(request).hub
    resp = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await resp.prepare(request)
    queue = hub.subscribe()
    try:
        await resp.write(b": connected\n\n")
        while True:
            try:
                kind, data = await asyncio.wait_for(queue.get(), timeout=_KEEPALIVE)
            except TimeoutError:
                await resp.write(b": keepalive\n\n")
                continue
            await resp.write(f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        hub.unsubscribe(queue)
    return resp


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/events", stream)
