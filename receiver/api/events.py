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

import structlog
from aiohttp import web
from aiohttp_sse import EventSourceResponse

from receiver.http.errors import JSONHTTPError
from receiver.http.eventhub import ID_RE, Event, EventHub, Subscription
from receiver.http.state import app_state, require

log = structlog.get_logger("receiver.events")
_KEEPALIVE = 15.0
_SEND_TIMEOUT = 60.0


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
    # The library pings every _KEEPALIVE seconds, sets the no-buffering header for
    # proxies and aborts a client that stops reading for _SEND_TIMEOUT.
    resp = EventSourceResponse(sep="\n", ping_interval=_KEEPALIVE, send_timeout=_SEND_TIMEOUT)
    await resp.prepare(request)
    sub = hub.subscribe(last_id)
    # Taken at once, with no await since subscribing, so no event falls in between.
    first = [hub.take_reset(sub, last_id)] if sub.reset else sub.backlog
    streams.open += 1
    try:
        await resp.write(b": connected\n\n")
        for event in first:
            await _send(resp, event)
            last_id = event.id
        if await _live(resp, hub, sub, streams.closing, last_id):
            await resp.send("{}", event="shutdown")
    except (ConnectionResetError, TimeoutError):
        pass
    finally:
        streams.open -= 1
        hub.unsubscribe(sub)
        resp.stop_streaming()
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await resp.write_eof()
    return resp


async def _send(resp: EventSourceResponse, event: Event) -> None:
    await resp.send(json.dumps(event.data), id=event.id, event=event.kind)


async def _live(
    resp: EventSourceResponse,
    hub: EventHub,
    sub: Subscription,
    closing: asyncio.Event,
    last_id: str | None,
) -> bool:
    """Send live events until the receiver shuts down (True) or the client has gone
    (False: the library's ping failed); a reset once the subscriber has drained what it
    was sent before it fell behind."""
    stop = asyncio.ensure_future(closing.wait())
    gone = asyncio.ensure_future(resp.wait())
    try:
        while not stop.done() and not gone.done():
            if sub.reset and sub.queue.empty():
                event = hub.take_reset(sub, last_id)
            else:
                get = asyncio.ensure_future(sub.queue.get())
                await asyncio.wait({get, stop, gone}, return_when=asyncio.FIRST_COMPLETED)
                if not get.done():
                    # Cancelling a pending Queue.get loses no item: it is only taken on wake-up.
                    get.cancel()
                    continue
                event = get.result()
            await _send(resp, event)
            last_id = event.id
        return stop.done()
    finally:
        stop.cancel()
        gone.cancel()


async def _end_streams(app: web.Application) -> None:
    streams = app[STREAMS]
    streams.closing.set()
    log.info("sse_streams_ending", open=streams.open, reason="shutdown")


def setup(app: web.Application) -> None:
    app[STREAMS] = Streams()
    app.on_shutdown.append(_end_streams)
    app.router.add_get("/api/v1/events", stream)
