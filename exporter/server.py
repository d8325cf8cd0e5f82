"""The HTTP side: /metrics, /-/healthy and a landing page, with optional TLS and basic auth."""

from __future__ import annotations

import asyncio
import html
import os
import signal
import ssl
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web

from exporter import __version__, memory
from exporter.authlimit import FailureLimiter
from exporter.collector import Collector, CollectorContext, CollectorUnavailable, HostPaths
from exporter.config import EnabledCollector
from exporter.exposition import (
    OPENMETRICS_CONTENT_TYPE,
    TEXT_CONTENT_TYPE,
    accepts_gzip,
    wants_openmetrics,
)
from exporter.scrape import Collection, CollectorEntry, ScrapeCache
from exporter.sharedreads import SharedReads
from exporter.tlssite import ListenSite
from exporter.webconfig import BasicAuth, WebConfig
from servicekit.redaction import add_secrets, secrets_in
from servicekit.runner import make_runner

log = structlog.get_logger("exporter.server")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_VARY = "Accept, Accept-Encoding"
DEFAULT_IDLE_TIMEOUT = 15.0
# A scrape in flight gets this long after SIGTERM before it is cancelled.
DRAIN_TIMEOUT = 2.0
# The process gets this long after SIGTERM to exit on its own; then it is ended with
# os._exit, since a collector stuck in a blocking system call holds a thread Python
# cannot stop (and a collector's stop() may hang too).
EXIT_GRACE = 5.0


@dataclass
class ServerSettings:
    """Everything `serve` needs, already validated."""

    listen: Sequence[tuple[str | None, int]]
    collectors: Sequence[EnabledCollector]
    paths: HostPaths = field(default_factory=HostPaths)
    state_dir: Path | None = None
    min_interval: float = 1.0
    telemetry_path: str = "/metrics"
    web: WebConfig | None = None
    ssl_context: ssl.SSLContext | None = None
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT


def build_entries(
    chosen: Sequence[EnabledCollector],
    paths: HostPaths,
    state_dir: Path | None,
    reads: SharedReads | None = None,
) -> list[CollectorEntry]:
    """Instantiate the chosen collectors; one that cannot be built is reported, not fatal.

    They all share `reads` (the collection's file reads) when given.
    """
    entries = []
    for item in chosen:
        ctx = CollectorContext(paths=paths, config=item.config)
        if reads is not None:
            ctx.reads = reads
        if state_dir is not None:
            ctx.state_dir = state_dir
        instance: Collector | None = None
        error: BaseException | None = None
        try:
            instance = item.cls(ctx)
        except CollectorUnavailable as exc:
            log.info("collector_unavailable", collector=item.cls.name, reason=str(exc))
            error = exc
        except Exception as exc:
            log.error("collector_init_failed", collector=item.cls.name, error=str(exc))
            error = exc
        entries.append(CollectorEntry(item.cls.name, item.timeout, instance, error))
    return entries


class MetricsHandlers:
    """Request handlers over one ScrapeCache."""

    def __init__(self, cache: ScrapeCache, telemetry_path: str) -> None:
        self.cache = cache
        self.telemetry_path = telemetry_path

    async def metrics(self, request: web.Request) -> web.Response:
        """Serve the cached snapshot in the negotiated format and encoding."""
        headers = request.headers
        gz = accepts_gzip(headers.get("Accept-Encoding", ""))
        om = wants_openmetrics(headers.get("Accept", ""))
        snap = self.cache.fresh() or await self.cache.get(om)
        body, body_gz = snap.ready(om) or await self.cache.bodies(snap, om)
        content_type = OPENMETRICS_CONTENT_TYPE if om else TEXT_CONTENT_TYPE
        out = {
            "Content-Type": content_type,
            "Age": str(max(0, int(time.time() - snap.started))),
            "Vary": _VARY,
        }
        if gz:
            out["Content-Encoding"] = "gzip"
            return web.Response(body=body_gz, headers=out)
        return web.Response(body=body, headers=out)

    async def healthy(self, request: web.Request) -> web.Response:
        """Liveness: the process is serving HTTP."""
        return web.Response(text="Healthy\n")

    async def landing(self, request: web.Request) -> web.Response:
        """A small page linking the metrics endpoint."""
        path = html.escape(self.telemetry_path)
        names = ", ".join(html.escape(e.name) for e in self.cache.collection.entries)
        page = (
            "<!DOCTYPE html><html><head><title>tocsin exporter</title></head><body>"
            f"<h1>tocsin exporter</h1><p>version {html.escape(__version__)}</p>"
            f'<p><a href="{path}">Metrics</a> · <a href="/-/healthy">Health</a></p>'
            f"<p>Collectors: {names}</p></body></html>"
        )
        return web.Response(text=page, content_type="text/html")


def auth_middleware(auth: BasicAuth, limiter: FailureLimiter) -> Any:
    """Require a valid Basic Authorization header on every path (as exporter-toolkit does).

    A credential verified before takes the cached path and is never limited. Otherwise an
    address whose failures used up its `limiter` bucket, or a request that finds every
    bcrypt slot taken, gets 429 with Retry-After before bcrypt runs.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        creds = BasicAuth.parse(request.headers.get("Authorization"))
        if creds is not None and auth.check_cached(*creds):
            return await handler(request)
        if creds is None:
            return _unauthorized()
        remote = request.remote or ""
        wait = limiter.take(remote)
        ok = None if wait is not None else await auth.verify(*creds)
        if ok is None:
            return _too_many(wait or 1)
        if ok:
            limiter.refund(remote)
            return await handler(request)
        log.info("auth_failed", user=creds[0], remote=remote)
        if limiter.exhausted(remote):
            log.warning(
                "auth_rate_limited",
                remote=remote,
                burst=limiter.burst,
                per_second=limiter.per_second,
                hint="further passwords from this address get 429 until its bucket refills",
            )
        return _unauthorized()

    return middleware


def _unauthorized() -> web.Response:
    return web.Response(
        status=401, text="Unauthorized\n", headers={"WWW-Authenticate": BasicAuth.realm}
    )


def _too_many(retry_after: int) -> web.Response:
    return web.json_response(
        {
            "error": "too many failed authentications from this address; retry later",
            "field": "Authorization",
            "retry_after_seconds": retry_after,
        },
        status=429,
        headers={"Retry-After": str(retry_after)},
    )


def build_app(cache: ScrapeCache, settings: ServerSettings) -> web.Application:
    """The aiohttp application; auth and extra headers cost nothing when not configured."""
    middlewares = []
    app_cleanup = []
    web_cfg = settings.web
    if web_cfg is not None and web_cfg.basic_auth_users:
        auth = BasicAuth(web_cfg.basic_auth_users)
        middlewares.append(auth_middleware(auth, FailureLimiter()))

        async def close_auth(_: web.Application) -> None:
            auth.close()

        app_cleanup.append(close_auth)
    app = web.Application(middlewares=middlewares, client_max_size=64 * 1024)
    app.on_cleanup.extend(app_cleanup)
    handlers = MetricsHandlers(cache, settings.telemetry_path)
    app.router.add_get(settings.telemetry_path, handlers.metrics)
    app.router.add_get("/-/healthy", handlers.healthy)
    if settings.telemetry_path != "/":
        app.router.add_get("/", handlers.landing)
    if web_cfg is not None and web_cfg.http_server_config.headers:
        extra = dict(web_cfg.http_server_config.headers)

        async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
            response.headers.update(extra)

        app.on_response_prepare.append(add_headers)
    return app


def exit_after(grace: float) -> None:
    """End the process with os._exit if it is still running `grace` seconds from now.

    A daemon thread, so a shutdown that finishes in time is not held up by it.
    """

    def force() -> None:
        log.error("shutdown_timeout", grace_seconds=grace, action="exiting anyway")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)

    timer = threading.Timer(grace, force)
    timer.daemon = True
    timer.start()


def _on_signals(stop: asyncio.Event) -> dict[int, Any]:
    """Handle SIGTERM and SIGINT: stop serving, and end the process if that takes too long.

    A plain signal handler rather than the event loop's: it runs even while something
    blocks the loop (a plugin's task stuck in a blocking call), so the exit deadline is
    armed whatever the loop is doing. Returns the handlers it replaced.
    """
    loop = asyncio.get_running_loop()
    armed = threading.Event()

    def handle(signum: int, frame: object) -> None:
        if not armed.is_set():
            armed.set()
            exit_after(EXIT_GRACE)
        loop.call_soon_threadsafe(stop.set)

    return {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}


async def serve(settings: ServerSettings) -> int:
    """Run until SIGTERM or SIGINT; returns the process exit code."""
    stop = asyncio.Event()
    previous = _on_signals(stop)
    try:
        return await _serve(settings, stop)
    finally:
        for sig, handler in previous.items():
            if handler is not None:  # None: a handler not installed from Python
                signal.signal(sig, handler)


async def _serve(settings: ServerSettings, stop: asyncio.Event) -> int:
    add_secrets(secrets_in(settings.web))
    reads = SharedReads()
    entries = build_entries(settings.collectors, settings.paths, settings.state_dir, reads)
    started: list[Collector] = []
    for entry in entries:
        if entry.collector is None:
            continue
        try:
            await entry.collector.start()
            started.append(entry.collector)
        except Exception as exc:
            log.error("collector_start_failed", collector=entry.name, error=str(exc))
    collection = Collection(entries, reads)
    cache = ScrapeCache(collection, settings.min_interval)
    app = build_app(cache, settings)
    runner = make_runner(app, settings.idle_timeout, DRAIN_TIMEOUT)
    await runner.setup()
    code = 0
    try:
        for host, port in settings.listen:
            site = ListenSite(
                runner,
                host,
                port,
                ssl_context=settings.ssl_context,
                handshake_timeout=settings.idle_timeout,
            )
            await site.start()
        log.info(
            "listening",
            addresses=",".join(f"{h or ''}:{p}" for h, p in settings.listen),
            tls=settings.ssl_context is not None,
            collectors=",".join(e.name for e in entries),
        )
        memory.trim()
        await stop.wait()
        log.info("shutting_down")
    except OSError as exc:
        log.error("listen_failed", error=str(exc))
        code = 1
    finally:
        await runner.cleanup()
        for collector in started:
            try:
                await collector.stop()
            except Exception as exc:
                log.error("collector_stop_failed", collector=collector.name, error=str(exc))
        collection.shutdown()
    return code
