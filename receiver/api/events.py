"""`GET /api/v1/events`: a Server-Sent Events stream of incident changes (viewer).

Streams never end on their own, so the application's `on_shutdown` hook ends them all:
otherwise a single open client would hold the process until aiohttp's shutdown timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import structlog
from aiohttp import web

from receiver.http.state import app_state, require

log = structlog.get_logger("receiver.events")
_KEEPALIVE = 15.0


class Streams:
    """The open streams of one application and the signal that ends them."""

    def __init__(self) -> None:
        self.closing = asyncio.Event()
        self.open = 0


STREAMS = web.AppKey("sse_streams", Streams)


async def stream(request: web.Request) -> web.StreamResponse:
    require(request, "viewer")
    hub = app_state(request).hub
    streams = request.app[STREAMS]
    if streams.closing.is_set():
        raise web.HTTPServiceUnavailable(reason="shutting down")
    resp = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await resp.prepare(request)
    queue = hub.subscribe()
    stop = asyncio.ensure_future(streams.closing.wait())
    streams.open += 1
    try:
        await resp.write(b": connected\n\n")
        while not stop.done():
            get = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait(
                {get, stop}, timeout=_KEEPALIVE, return_when=asyncio.FIRST_COMPLETED
            )
            if get not in done:
                # Cancelling a pending Queue.get loses no item: it is only taken on wake-up.
                get.cancel()
                if not stop.done():
                    await resp.write(b": keepalive\n\n")
                continue
            kind, data = get.result()
            await resp.write(f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode())
        await resp.write(b"event: shutdown\ndata: {}\n\n")
    except ConnectionResetError:
        pass
    finally:
        streams.open -= 1
        stop.cancel()
        hub.unsubscribe(queue)
    with contextlib.suppress(ConnectionResetError):
        await resp.write_eof()
    return resp


async def _end_streams(app: web.Application) -> None:
    streams = app[STREAMS]
    streams.closing.set()
    log.info("sse_streams_ending", open=streams.open, reason="shutdown")


def setup(app: web.Application) -> None:
    app[STREAMS] = Streams()
    app.on_shutdown.append(_end_streams)
    app.router.add_get("/api/v1/events", stream)
