"""The incidents list, the rows a live update re-renders, and the tab counts."""

from __future__ import annotations

import re
import time

from aiohttp import web

import receiver.web.sessions as sessions
from receiver.http.errors import JSONHTTPError
from receiver.http.state import app_state, require
from receiver.model.snapshot import iso
from receiver.web.guard import finish, page, prefix, signed_in
from receiver.web.listing import (
    PAGE_SIZES,
    SORTS,
    counts,
    page_of,
    parse_view,
    rows_by_id,
    unread_since,
)
from receiver.web.render import render

_MAX_IDS = 200


@page
async def incidents(request: web.Request) -> web.StreamResponse:
    """`GET {prefix}/`: one tab of incidents, filtered, grouped, sorted and paged."""
    who = await signed_in(request)
    require(request, "viewer")
    view = parse_view(request.query)
    store = app_state(request).store
    now = time.time()
    previous = await sessions.last_visit(store, who.name, now)
    result = await store.read(lambda tx: (page_of(tx, view), unread_since(tx, previous)))
    listing, unread = result
    context = {
        "prefix": prefix(request),
        "who": who,
        "page": listing,
        "view": view,
        "unread": unread,
        "since_iso": iso(previous) or "",
        "sorts": SORTS,
        "page_sizes": PAGE_SIZES,
        "bulk_result": _bulk_result(request),
    }
    return finish(request, await render("list.html", context))


def _bulk_result(request: web.Request) -> dict[str, str] | None:
    """What the bulk action that redirected here reports (None when there was none)."""
    q = request.query
    doc = {"did": q.get("did", ""), "done": q.get("done", ""), "failed": q.get("failed", "")}
    counts_ok = all(re.fullmatch(r"[0-9]{1,4}", doc[k]) for k in ("done", "failed"))
    return doc if doc["did"] in ("ack", "unack", "resolve") and counts_ok else None


def _ids(request: web.Request) -> list[int]:
    raw = request.query.getall("id", [])
    if len(raw) > _MAX_IDS:
        raise JSONHTTPError(400, f"expected at most {_MAX_IDS} ids", field="id")
    if not all(re.fullmatch(r"[0-9]{1,18}", r) for r in raw):
        raise JSONHTTPError(400, "expected integer ids", field="id")
    return [int(r) for r in raw]


@page
async def rows(request: web.Request) -> web.StreamResponse:
    """`GET {prefix}/rows?id=...&<view>`: the table rows of those incidents that belong in
    the view, for the page's script to put in place of the old ones."""
    who = await signed_in(request)
    require(request, "viewer")
    view = parse_view(request.query)
    ids = _ids(request)
    docs = await app_state(request).store.read(lambda tx: rows_by_id(tx, view, ids))
    context = {"prefix": prefix(request), "who": who, "items": docs, "view": view}
    return finish(request, await render("rows.html", context))


@page
async def tab_counts(request: web.Request) -> web.StreamResponse:
    """`GET {prefix}/counts`: incidents per state, as JSON."""
    await signed_in(request)
    require(request, "viewer")
    found = await app_state(request).store.read(counts)
    return finish(request, web.json_response(found))


def setup(app: web.Application, base: str) -> None:
    app.router.add_get(base + "/", incidents)
    app.router.add_get(base + "/rows", rows)
    app.router.add_get(base + "/counts", tab_counts)
