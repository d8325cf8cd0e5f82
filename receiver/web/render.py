"""The page templates: a Jinja2 Environment of their own, autoescaped, rendered off the
event loop.

Not sandboxed: these templates are ours, shipped with the package, and never come from
users (the notification templates, which may, have their own sandboxed Environment).
Everything they print from an alert is escaped, and URLs pass `link` first.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import jinja2
from aiohttp import web

from receiver.web.guard import SECURITY_HEADERS

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("receiver.web", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# Rendering a thousand rows takes tens of milliseconds: off the loop, two at a time.
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="web-render")


def link(url: object) -> str | None:
    """`url` if it is an absolute http(s) URL, else None: a `javascript:` or `data:` URL
    from an alert's annotations is shown as text, never as a link."""
    if not isinstance(url, str) or len(url) > 4096:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def since(stamp: str | None) -> str:
    """An RFC 3339 time as a short age ("3m", "2h", "5d")."""
    if not stamp:
        return ""
    then = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    seconds = max(0, int((datetime.now(UTC) - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


_ENV.filters["link"] = link
_ENV.filters["since"] = since


def render_text(name: str, context: dict[str, Any]) -> str:
    """Render one template (blocking)."""
    return _ENV.get_template(name).render(context)


async def render(name: str, context: dict[str, Any], status: int = 200) -> web.Response:
    """An HTML answer rendered in the pool, with the security headers."""
    loop = asyncio.get_running_loop()
    body = await loop.run_in_executor(_POOL, render_text, name, context)
    resp = web.Response(text=body, status=status, content_type="text/html")
    resp.headers.update(SECURITY_HEADERS)
    return resp
