"""The common part of every provider sink: recording, scripted replies, start/stop."""

from __future__ import annotations

import json
import ssl
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web


@dataclass
class Reply:
    """A scripted answer: a dict/list body is sent as JSON, a str as text, None as empty."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> web.Response:
        if isinstance(self.body, dict | list):
            return web.json_response(self.body, status=self.status, headers=self.headers)
        if self.body is None:
            return web.Response(status=self.status, headers=self.headers)
        return web.Response(text=str(self.body), status=self.status, headers=self.headers)


@dataclass
class Recorded:
    """One request as the sink received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Sink:
    """Base class: subclasses add routes in `routes()` and answer through `reply()`."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.ssl_context = ssl_context
        self.requests: list[Recorded] = []
        self.replies: deque[Reply] = deque()
        self.app = web.Application(client_max_size=8 * 1024 * 1024)
        self.routes()
        self._runner: web.AppRunner | None = None
        self.port = 0

    def routes(self) -> None:
        raise NotImplementedError

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def script(self, *replies: Reply) -> None:
        """Queue replies used, in order, before the provider's normal behaviour."""
        self.replies.extend(replies)

    async def record(self, request: web.Request) -> Recorded:
        recorded = Recorded(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            body=await request.read(),
        )
        self.requests.append(recorded)
        return recorded

    def messages(self) -> list[dict[str, Any]]:
        """The JSON bodies received so far, oldest first (for providers that take JSON)."""
        return [r.json for r in self.requests]

    def scripted(self) -> web.Response | None:
        """The next scripted reply, if any."""
        if self.replies:
            return self.replies.popleft().response()
        return None

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ssl_context)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Sink:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
