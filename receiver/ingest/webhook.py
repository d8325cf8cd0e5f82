"""`POST /webhook/alertmanager`: validate, commit the raw payload to the durable intake,
answer 2xx, then let the inbox process it (see `receiver.ingest.inbox`)."""

from __future__ import annotations

import asyncio
import json
import time

import structlog
from aiohttp import web

from receiver.http.body import read_capped
from receiver.http.correlation import REQUEST_ID_KEY
from receiver.http.errors import ClientAborted, JSONHTTPError
from receiver.http.state import app_state
from receiver.ingest.inbox import OFF_LOOP_BYTES, Inbox, Stored
from receiver.metrics import WEBHOOKS
from receiver.model.payload import Payload, PayloadError, parse_payload
from receiver.store.base import StoreError

log = structlog.get_logger("receiver.ingest")
# The inbox that processes stored webhooks; set by the service beside APP_STATE.
INBOX = web.AppKey("inbox", Inbox)


def decode_body(raw: bytes) -> tuple[str, Payload]:
    """The body as text and as a validated payload; a 400 JSONHTTPError when bad."""
    try:
        text = raw.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise JSONHTTPError(400, f"malformed JSON: {exc}", field="$") from None
    try:
        return text, parse_payload(data)
    except PayloadError as exc:
        raise JSONHTTPError(400, exc.message, field=exc.field) from None


async def handle_webhook(request: web.Request) -> web.Response:
    """The Alertmanager webhook endpoint."""
    try:
        response = await _handle(request)
    except web.HTTPException as exc:
        WEBHOOKS.labels(str(exc.status)).inc()
        raise
    except ClientAborted:
        # Nothing was answered: counted as an incomplete body where it was read.
        raise
    except BaseException:
        WEBHOOKS.labels("500").inc()
        raise
    WEBHOOKS.labels(str(response.status)).inc()
    return response


async def _handle(request: web.Request) -> web.Response:
    rt = app_state(request)
    correlation_id = str(request[REQUEST_ID_KEY])
    rt.auth.require(request, "ingest")
    if request.content_type != "application/json":
        raise JSONHTTPError(
            415,
            f"expected Content-Type application/json, got {request.content_type!r}",
            field="Content-Type",
        )
    raw = await read_capped(request, rt.config.web.max_body_bytes)
    # A big body is decoded, stored and processed off the event loop, whatever its alert
    # count: a few alerts with large annotations cost as much as many small ones.
    big = len(raw) > OFF_LOOP_BYTES
    if big:
        text, payload = await asyncio.to_thread(decode_body, raw)
    else:
        text, payload = decode_body(raw)
    now = time.time()
    try:
        webhook_id = await rt.store.ingest(text, correlation_id, now)
    except StoreError as exc:
        log.error("webhook_not_stored", error=str(exc))
        raise JSONHTTPError(503, "could not store the webhook; retry later") from None
    request.app[INBOX].submit(Stored(webhook_id, now, correlation_id, text, payload, len(raw)))
    log.debug("webhook_stored", webhook_id=webhook_id, alerts=len(payload.alerts))
    return web.json_response(
        {"status": "stored", "correlation_id": correlation_id, "webhook_id": webhook_id}
    )
