"""`GET /api/v1/events`: a Server-Sent Events stream of receiver events (viewer).

Every event carries an `id:`; a reconnect sending `Last-Event-ID` resumes right after it
from the hub's replay window, or is sent a `reset` event when it cannot (see
`receiver.http.eventhub`).

Streams never end on their own, so the application's `on_shutdown` hook ends them all:
otherwise a single open client would hold the process until aiohttp's shutdown timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Literal

import structlog
from aiohttp import web

from receiver.http.errors import JSONHTTPError
from receiver.http.eventhub import ID_RE, Event, EventHub, Subscription
from receiver.http.state import app_state, require

log = structlog.get_logger("receiver.events")
_KEEPALIVE = 15.0


class Streams:
    """The open streams of one application and the signal that ends them."""

    def __init__(self) -> None:
        self.closing = asyncio.Event()
        self.open = 0


STREAMS = web.AppKey("sse_streams", Streams)


def frame(event: Event) -> bytes:
    """One event in the SSE wire format."""
    return f"id: {event.id}\nevent: {event.kind}\ndata: {json.dumps(event.data)}\n\n".encode()


def _last_event_id(request: web.Request) -> str | None:
    """The `Last-Event-ID` header (None when absent or empty); 400 when malformed."""
    value = request.headers.get("Last-Event-ID", "").strip()
    if not value:
        return None
    if not ID_RE.fullmatch(value):
        raise JSONHTTPError(
            400,
            f"expected an event id of this stream (<epoch>-<sequence>), got {value[:64]!r}",
            field="Last-Event-ID",
        )
    return value


async def stream(request: web.Request) -> web.StreamResponse:
    """The endless event stream; see the module docstring."""
    require(request, "viewer")
    last_id = _last_event_id(request)
    hub = app_state(request).hub
    streams = request.app[STREAMS]
    if streams.closing.is_set():
        raise web.HTTPServiceUnavailable(reason="shutting down")
    resp = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            # Proxies such as nginx would otherwise buffer the stream.
            "X-Accel-Buffering": "no",
        }
    )
    await resp.prepare(request)
    sub = hub.subscribe(last_id)
    # Taken at once, with no await since subscribing, so no event falls in between.
    first = [hub.take_reset(sub, last_id)] if sub.reset else sub.backlog
    stop = asyncio.ensure_future(streams.closing.wait())
    streams.open += 1
    try:
        await resp.write(b": connected\n\n")
        for event in first:
            await resp.write(frame(event))
            last_id = event.id
        await _live(resp, hub, sub, stop, last_id)
        await resp.write(b"event: shutdown\ndata: {}\n\n")
    except ConnectionResetError:
        pass
    finally:
        streams.open -= 1
        stop.cancel()
        hub.unsubscribe(sub)
    with contextlib.suppress(ConnectionResetError):
        await resp.write_eof()
    return resp


async def _live(
    resp: web.StreamResponse,
    hub: EventHub,
    sub: Subscription,
    stop: asyncio.Task[Literal[True]],
    last_id: str | None,
) -> None:
    """Write live events until `stop`; a keep-alive comment when idle, and a reset once
    the subscriber has drained what it was sent before it fell behind."""
    while not stop.done():
        if sub.reset and sub.queue.empty():
            event = hub.take_reset(sub, last_id)
            await resp.write(frame(event))
            last_id = event.id
            continue
        get = asyncio.ensure_future(sub.queue.get())
        done, _ = await asyncio.wait(
            {get, stop}, timeout=_KEEPALIVE, return_when=asyncio.FIRST_COMPLETED
        )
        if get not in done:
            # Cancelling a pending Queue.get loses no item: it is only taken on wake-up.
            get.cancel()
            if not stop.done():
                await resp.write(b": keepalive\n\n")
            continue
        event = get.result()
        await resp.write(frame(event))
        last_id = event.id


async def _end_streams(app: web.Application) -> None:
    streams = app[STREAMS]
    streams.closing.set()
    log.info("sse_streams_ending", open=streams.open, reason="shutdown")


def setup(app: web.Application) -> None:
    app[STREAMS] = Streams()
    app.on_shutdown.append(_end_streams)
    app.router.add_get("/api/v1/events", stream)
