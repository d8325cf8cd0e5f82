"""The aiohttp application: middleware (correlation id, JSON errors), routes, /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import Awaitable, Callable

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
    succeeds. The probe tries one itself (one at a time), so a receiver taken out of
    service, and thus sent nothing to write, still notices when the disk has recovered.
    """
    store = request.app[RUNTIME].store
    if not store.is_open:
        return json_error(503, "the store is not open", field="store")
    if store.commit_error is not None:
        await _probe_commit(request.app)
    if store.commit_error is not None:
        return json_error(503, f"the store cannot commit: {store.commit_error}", field="store")
    return web.Response(text="Ready.\n")


_PROBE = web.AppKey("commit_probe", asyncio.Lock)


def _touch(tx: Tx) -> None:
    # Rewrites one row unchanged: the commit writes (and syncs) a WAL frame, which is
    # what a full disk refuses.
    tx.execute("UPDATE schema_version SET version = version")


async def _probe_commit(app: web.Application) -> None:
    lock = app[_PROBE]
    if lock.locked():
        async with lock:
            return
    async with lock:
        with contextlib.suppress(StoreError):
            await app[RUNTIME].store.write(_touch)


async def metrics(_: web.Request) -> web.Response:
    body = generate_latest(REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def make_app(rt: Runtime) -> web.Application:
    """Build the application for a started Runtime."""
    # The webhook handler enforces its own (configurable) cap while streaming.
    app = web.Application(middlewares=[correlation], client_max_size=1 << 20)
    app[RUNTIME] = rt
    app[_PROBE] = asyncio.Lock()
    app.router.add_post("/webhook/alertmanager", handle_webhook)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/-/healthy", healthy)
    app.router.add_get("/-/ready", ready)
    api.setup_all(app)
    return app
