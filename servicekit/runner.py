"""The aiohttp runner both services serve with, and its connection guards."""

from __future__ import annotations

from aiohttp import web

# In-flight requests get this long after SIGTERM before they are cancelled (SSE streams
# end at once). Kubernetes allows 30 s in all, and the receiver's inbox and outbox need some.
SHUTDOWN_TIMEOUT = 5.0


def make_runner(
    app: web.Application, idle_timeout: float, shutdown_timeout: float = SHUTDOWN_TIMEOUT
) -> web.AppRunner:
    """The runner with the connection guards both services rely on.

    aiohttp has no separate header-read timeout, but its keep-alive timer starts when a
    connection opens and is only re-armed after a response, so `keepalive_timeout` also
    closes a connection that trickles a request head (slowloris) or sends nothing.
    Signals are the service's own business (drain first), so aiohttp handles none.
    """
    return web.AppRunner(
        app,
        access_log=None,
        handle_signals=False,
        keepalive_timeout=idle_timeout,
        shutdown_timeout=shutdown_timeout,
    )
