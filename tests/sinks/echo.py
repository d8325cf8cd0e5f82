"""A provider (or the proxy in front of it) that answers every request with a 500 error
page echoing the request: its URL, its headers, a JSON body's top-level text fields (as
a validation error names them) and the whole body, in that order."""

from __future__ import annotations

import json

from aiohttp import web

from tests.sinks.base import Sink


class EchoSink(Sink):
    """Echoes each request; `json_paths` prefixes get a JSON page with `/` escaped as `\\/`
    (as PHP's json_encode writes it), every other path a plain-text page."""

    def __init__(self, *args: object, json_paths: tuple[str, ...] = (), **kw: object) -> None:
        self.json_paths = json_paths
        self.echoed: list[str] = []
        super().__init__(*args, **kw)  # type: ignore[arg-type]

    def routes(self) -> None:
        self.app.router.add_route("*", "/{tail:.*}", self._echo)

    async def _echo(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        # Credentials first, so they fall within what a stored error keeps of the page.
        headers = sorted(recorded.headers.items(), key=lambda kv: kv[0] != "Authorization")
        try:
            doc = json.loads(recorded.body)
        except ValueError:
            doc = None
        fields = {}
        if isinstance(doc, dict):
            fields = {k: v for k, v in doc.items() if isinstance(v, str) and k != "text"}
        if request.path.startswith(self.json_paths):
            echo = {"message": "upstream failed", "url": str(request.url), "headers": headers}
            page = json.dumps({**echo, "fields": fields, "body": recorded.text})
            page = page.replace("/", "\\/")
            content_type = "application/json"
        else:
            lines = [f"{request.method} {request.url}", *(f"{k}: {v}" for k, v in headers)]
            lines += [f"field {k}: {v}" for k, v in fields.items()]
            page = "\n".join([*lines, "", recorded.text])
            content_type = "text/plain"
        self.echoed.append(page)
        return web.Response(status=500, text=page, content_type=content_type)
