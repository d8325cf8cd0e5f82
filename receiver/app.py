"""The aiohttp application: middleware (correlation id, JSON errors), routes, /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from receiver import api
from receiver.api.auth import REQUEST_ID_KEY
from receiver.api.errors import json_error
from receiver.ingest.webhook import handle_webhook
from receiver.metrics import REGISTRY
from receiver.runtime import RUNTIME, Runtime
from receiver.store.base import StoreError, Tx

log = structlog.get_logger("receiver.http")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def correlation(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Take X-Request-ID (if sane) or make one; bind it for every log line of the request."""
    given = request.headers.get("X-Request-ID", "")
    cid = given if _REQUEST_ID_RE.match(given) else uuid.uuid4().hex
    request[REQUEST_ID_KEY] = cid
    with structlog.contextvars.bound_contextvars(correlation_id=cid):
        try:
            resp = await handler(request)
        except web.HTTPException as exc:
            if exc.content_type == "application/json" and exc.text:
                resp = web.Response(status=exc.status, text=exc.text, content_type=exc.content_type)
            else:
                resp = json_error(exc.status, exc.reason)
        except Exception:
            log.exception("unhandled_error", path=request.path)
            resp = json_error(500, "internal error; see the receiver log", correlation_id=cid)
        if not resp.prepared:
            resp.headers["X-Request-ID"] = cid
        return resp


async def healthy(_: web.Request) -> web.Response:
    return web.Response(text="Healthy.\n")


async def ready(request: web.Request) -> web.Response:
    """200 while webhooks can be stored; 503 with a JSON reason otherwise.

    After a failed commit (disk full, I/O error) the store is not ready until a commit
    succeeds. Every `PROBE_AFTER` seconds of that, the probe tries one commit itself, so
    a receiver taken out of service (and so given nothing to write) notices when the
    disk has recovered.
    """
    store = request.app[RUNTIME].store
    if not store.is_open:
        return json_error(503, "the store is not open", field="store")
    probe = request.app[_PROBE]
    if store.commit_error is None:
        probe.since = None
    else:
        now = time.monotonic()
        if probe.since is None:
            probe.since = now
        elif now - probe.since >= PROBE_AFTER and not probe.lock.locked():
            probe.since = now
            async with probe.lock:
                with contextlib.suppress(StoreError):
                    await store.write(_touch)
    if store.commit_error is not None:
        return json_error(503, f"the store cannot commit: {store.commit_error}", field="store")
    return web.Response(text="Ready.\n")


PROBE_AFTER = 10.0


@dataclass
class _CommitProbe:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # When readiness first saw the current commit failure (or last probed it).
    since: float | None = None


_PROBE = web.AppKey("commit_probe", _CommitProbe)


def _touch(tx: Tx) -> None:
    # Rewrites one row unchanged: the commit writes (and syncs) a WAL frame, which is
    # what a full disk refuses.
    tx.execute("UPDATE schema_version SET version = version")


async def metrics(_: web.Request) -> web.Response:
    body = generate_latest(REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def make_app(rt: Runtime) -> web.Application:
    """Build the application for a started Runtime."""
    # The webhook handler enforces its own (configurable) cap while streaming.
    app = web.Application(middlewares=[correlation], client_max_size=1 << 20)
    app[RUNTIME] = rt
    app[_PROBE] = _CommitProbe()
    app.router.add_post("/webhook/alertmanager", handle_webhook)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/-/healthy", healthy)
    app.router.add_get("/-/ready", ready)
    api.setup_all(app)
    return app
