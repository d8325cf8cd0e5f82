"""A listening site whose TLS handshakes are bounded by the idle timeout.

aiohttp's `TCPSite` leaves asyncio's default of 60 s for a TLS handshake, so a client that
connects and sends nothing (or half a ClientHello) holds its connection four times longer
than `--web.idle-timeout` promises; the keep-alive timer that enforces that timeout only
starts once the handshake is done. This site passes `ssl_handshake_timeout`, so the
handshake is bounded by the idle timeout as the request head after it is.
"""

from __future__ import annotations

import asyncio
import ssl

from aiohttp import web


class ListenSite(web.BaseSite):
    """`web.TCPSite` with `ssl_handshake_timeout` (aiohttp's BaseSite is its extension point)."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str | None,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        handshake_timeout: float,
    ) -> None:
        super().__init__(runner, ssl_context=ssl_context)
        self.host = host
        self.port = port
        self.tls = ssl_context
        self.handshake_timeout = handshake_timeout

    @property
    def name(self) -> str:
        """The URL this site serves, as aiohttp's sites name themselves."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host or '0.0.0.0'}:{self.port}"

    async def start(self) -> None:
        """Listen (registering with the runner first, as every aiohttp site does)."""
        await super().start()
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            server,
            self.host,
            self.port,
            ssl=self.tls,
            ssl_handshake_timeout=self.handshake_timeout if self.tls else None,
        )
