"""The aiohttp application: middleware, routes, /metrics."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from receiver import api
from receiver import web as pages
from receiver.http.correlation import correlation
from receiver.http.state import APP_STATE
from receiver.ingest.webhook import INBOX, handle_webhook
from receiver.metrics import REGISTRY
from receiver.service.lifecycle import Runtime
from receiver.service.probes import PROBE, CommitProbe, healthy, ready
from receiver.service.reload import RELOADER, Reloader, reload_endpoint


async def metrics(_: web.Request) -> web.Response:
    """`GET /metrics`: the receiver's registry in the Prometheus text format."""
    body = generate_latest(REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def make_app(rt: Runtime, reloader: Reloader) -> web.Application:
    """Build the application for a started Runtime and the reloader of its config."""
    # The webhook handler enforces its own (configurable) cap while streaming.
    app = web.Application(middlewares=[correlation], client_max_size=1 << 20)
    app[APP_STATE] = rt.app_state()
    app[INBOX] = rt.inbox
    app[PROBE] = CommitProbe()
    app[RELOADER] = reloader
    app.router.add_post("/webhook/alertmanager", handle_webhook)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/-/healthy", healthy)
    app.router.add_get("/-/ready", ready)
    app.router.add_post("/-/reload", reload_endpoint)
    api.setup_all(app)
    pages.setup(app)
    return app
