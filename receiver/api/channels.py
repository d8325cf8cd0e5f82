"""Channels: list (viewer) and send a test notification through the outbox (admin)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from receiver.api.bodies import no_body
from receiver.api.incidents import attempts_of
from receiver.api.writes import act
from receiver.http.errors import JSONHTTPError
from receiver.http.state import app_state, require
from receiver.model.actor import Actor
from receiver.model.snapshot import iso
from receiver.outbox.create import insert_notification
from receiver.pipeline.actions import audit
from receiver.pipeline.context import Context
from receiver.store.base import Tx

_WAIT = 30.0


def test_incident(channel: str, now: float) -> dict[str, Any]:
    """A synthetic incident snapshot for test notifications."""
    stamp = iso(now)
    return {
        "id": 0,
        "key": "test",
        "receiver": "tocsin-test",
        "group_key": '{}:{alertname="TocsinTestNotification"}',
        "state": "firing",
        "severity": "info",
        "group_labels": {"alertname": "TocsinTestNotification"},
        "common_labels": {"alertname": "TocsinTestNotification", "severity": "info"},
        "common_annotations": {"summary": f"Test notification for channel {channel}"},
        "external_url": "",
        "created_at": stamp,
        "updated_at": stamp,
        "resolved_at": None,
        "acked_by": None,
        "acked_at": None,
        "ack_comment": None,
        "truncated_alerts": 0,
        "correlation_id": "",
        "alerts": [
            {
                "fingerprint": "0000000000000000",
                "status": "firing",
                "labels": {"alertname": "TocsinTestNotification", "severity": "info"},
                "annotations": {"summary": f"Test notification for channel {channel}"},
                "starts_at": stamp,
                "ends_at": None,
                "generator_url": "",
            }
        ],
    }


def queue_test(tx: Tx, ctx: Context, channel: str, actor: Actor, now: float) -> int:
    """Store a `test` notification for `channel` (audited) and wake the outbox."""
    snapshot = test_incident(channel, now)
    snapshot["correlation_id"] = actor.correlation_id
    nid = insert_notification(
        tx,
        incident_id=None,
        channel=channel,
        kind="test",
        correlation_id=actor.correlation_id,
        snapshot=snapshot,
        now=now,
    )
    audit(tx, actor, "test_notification", f"channel/{channel}", now, notification_id=nid)
    tx.after_commit(ctx.wake_outbox)
    return nid


async def wait_first_attempt(request: web.Request, nid: int, wait: float) -> dict[str, Any]:
    """The notification's state and attempts once one attempt is recorded (or timeout)."""
    store = app_state(request).store
    deadline = time.monotonic() + wait

    def read(tx: Tx) -> dict[str, Any]:
        row = tx.one("SELECT state, last_error FROM notifications WHERE id = ?", (nid,))
        return {"state": row["state"] if row else None, "attempts": attempts_of(tx, nid)}

    doc = await store.read(read)
    while not doc["attempts"] and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        doc = await store.read(read)
    return doc


async def get_list(request: web.Request) -> web.Response:
    require(request, "viewer")
    cfg = app_state(request).config
    items = [
        {
            "name": c.name,
            "type": c.type,
            "rate_limit": f"{c.rate_limit.count}/{c.rate_limit.per:g}s" if c.rate_limit else None,
        }
        for c in cfg.channels.values()
    ]
    return web.json_response({"channels": items})


async def post_test(request: web.Request) -> web.Response:
    actor = require(request, "admin")
    name = request.match_info["name"]
    rt = app_state(request)
    if name not in rt.config.channels:
        raise JSONHTTPError(404, f"unknown channel {name!r}", field="name")
    await no_body(request)
    nid = await act(request, lambda tx, now: queue_test(tx, rt.ctx, name, actor, now))
    doc = await wait_first_attempt(request, nid, _WAIT)
    attempts = doc["attempts"]
    last = attempts[-1] if attempts else None
    return web.json_response(
        {
            "channel": name,
            "notification_id": nid,
            "correlation_id": actor.correlation_id,
            "state": doc["state"],
            "ok": bool(last and last["outcome"] == "delivered"),
            "attempts": attempts,
            "status": last["status"] if last else None,
            "response": last["response"] if last else None,
            "error": last["error"] if last else "no attempt within 30s",
        }
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/channels", get_list)
    app.router.add_post("/api/v1/channels/{name}/test", post_test)
