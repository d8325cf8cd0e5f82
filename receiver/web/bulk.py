"""`POST {prefix}/bulk`: one action (ack, unack, resolve) with one comment on the incidents
ticked in the list, each as its own write (one in the wrong state fails alone)."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from multidict import MultiDict

from receiver.api.bodies import MAX_COMMENT_CHARS
from receiver.api.writes import act
from receiver.http.errors import JSONHTTPError
from receiver.http.state import app_state, require
from receiver.web.guard import page, posted, prefix
from receiver.web.incident_detail import ACTIONS
from receiver.web.listing import PAGE_SIZES, parse_view

# Every incident of the largest page; csrf, action, comment and view come on top.
_MAX_IDS = max(PAGE_SIZES)
_ID_RE = re.compile(r"[0-9]{1,18}")


@page
async def bulk(request: web.Request) -> web.StreamResponse:
    """Run the action on every ticked incident; back to the list with how many worked."""
    _, form = await posted(request, max_fields=_MAX_IDS + 8)
    actor = require(request, "operator")
    action = form.get("action", "")
    if action not in ACTIONS:
        raise JSONHTTPError(400, f"expected one of {', '.join(ACTIONS)}", field="action")
    raw_ids = form.getall("id", [])
    if not raw_ids or len(raw_ids) > _MAX_IDS:
        raise JSONHTTPError(400, f"expected 1..{_MAX_IDS} incident ids", field="id")
    if not all(_ID_RE.fullmatch(i) for i in raw_ids):
        raise JSONHTTPError(400, "expected integer ids", field="id")
    comment = form.get("comment", "")
    if len(comment) > MAX_COMMENT_CHARS:
        raise JSONHTTPError(
            400, f"expected at most {MAX_COMMENT_CHARS} characters", field="comment"
        )
    try:
        query = parse_qsl(form.get("view", ""), max_num_fields=16)
    except ValueError:
        raise JSONHTTPError(400, "expected the list's query string", field="view") from None
    view = parse_view(MultiDict(query))
    fn, ctx = ACTIONS[action], app_state(request).ctx

    async def job(incident_id: int) -> None:
        await act(request, lambda tx, now: fn(tx, ctx, incident_id, actor, comment, now))

    # Concurrent writes share commits (the store's group commit), so a page costs few.
    results = await asyncio.gather(
        *(job(int(i)) for i in dict.fromkeys(raw_ids)), return_exceptions=True
    )
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, JSONHTTPError):
            raise r
    failed = sum(isinstance(r, JSONHTTPError) for r in results)
    summary = urlencode({"done": len(results) - failed, "failed": failed, "did": action})
    raise web.HTTPSeeOther(f"{prefix(request)}/?{view.query()}&{summary}")


def setup(app: web.Application, base: str) -> None:
    app.router.add_post(base + "/bulk", bulk)
