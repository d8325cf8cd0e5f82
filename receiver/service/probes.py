"""`/-/healthy` and `/-/ready`: readiness follows whether the store can commit."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

from aiohttp import web

from receiver.http.errors import json_error
from receiver.http.state import APP_STATE
from receiver.store.base import StoreError


async def healthy(_: web.Request) -> web.Response:
    """`GET /-/healthy`: 200 while the process serves requests."""
    return web.Response(text="Healthy.\n")


async def ready(request: web.Request) -> web.Response:
    """200 while webhooks can be stored; 503 with a JSON reason otherwise.

    After a failed commit or webhook intake (disk full, I/O error) the store is not ready
    until one succeeds. The probe tries a synced commit of each file itself when it first
    sees the failure and then at most every `PROBE_AFTER` seconds, so a receiver taken
    out of service (and so given nothing to write) notices when the disk has recovered.
    """
    store = request.app[APP_STATE].store
    if not store.is_open:
        return json_error(503, "the store is not open", field="store")
    probe = request.app[PROBE]
    if store.commit_error is None:
        probe.since = None
    else:
        now = time.monotonic()
        due = probe.since is None or now - probe.since >= PROBE_AFTER
        if due and not probe.lock.locked():
            probe.since = now
            async with probe.lock:
                with contextlib.suppress(StoreError):
                    await store.probe()
    if store.commit_error is not None:
        return json_error(503, f"the store cannot commit: {store.commit_error}", field="store")
    return web.Response(text="Ready.\n")


PROBE_AFTER = 1.0


@dataclass
class CommitProbe:
    """Readiness's own trial commits while the store cannot commit (one at a time)."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # When readiness first saw the current commit failure (or last probed it).
    since: float | None = None


PROBE = web.AppKey("commit_probe", CommitProbe)
