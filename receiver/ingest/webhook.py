"""`POST /webhook/alertmanager`: validate, then commit (raw payload + its effects) in one
transaction before answering 2xx.

The raw body is stored in `webhooks` in the same transaction as the incident changes
and outbox rows it causes. Processing runs in a savepoint: if it fails (a bug), the raw
payload is still committed with state `error`, answered 2xx (it is durable) and
re-processed on the next start.
"""

from __future__ import annotations

import json
import time
from typing import Any

import structlog
from aiohttp import web

from receiver.api.auth import REQUEST_ID_KEY
from receiver.api.errors import JSONHTTPError
from receiver.ingest.payload import Payload, PayloadError, parse_payload
from receiver.metrics import WEBHOOKS
from receiver.pipeline.context import Context
from receiver.pipeline.process import Outcome, process
from receiver.runtime import RUNTIME
from receiver.store.base import StoreError, Tx

log = structlog.get_logger("receiver.ingest")
_CHUNK = 1 << 16


async def read_capped(request: web.Request, cap: int) -> bytes:
    """The request body, refusing (413) anything over `cap` bytes without buffering it."""
    length = request.content_length
    if length is not None and length > cap:
        raise JSONHTTPError(413, f"body of {length} bytes exceeds the {cap}-byte limit")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > cap:
            raise JSONHTTPError(413, f"body exceeds the {cap}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def ingest_job(
    tx: Tx, ctx: Context, body: str, payload: Payload, correlation_id: str, now: float
) -> tuple[int, Outcome | None]:
    """Store the raw webhook and apply it; returns (webhook id, outcome or None on error)."""
    webhook_id = tx.execute(
        "INSERT INTO webhooks (received_at, correlation_id, body, state) VALUES (?, ?, ?, ?)",
        (now, correlation_id, body, "processed"),
    )
    return webhook_id, apply_stored(tx, ctx, webhook_id, payload, correlation_id, now)


def apply_stored(
    tx: Tx, ctx: Context, webhook_id: int, payload: Payload, correlation_id: str, now: float
) -> Outcome | None:
    """Process a stored webhook in a savepoint; on failure mark it `error` and keep it."""
    tx.execute("SAVEPOINT process")
    try:
        outcome = process(tx, ctx, payload, correlation_id, now)
        tx.execute("RELEASE process")
    except Exception as exc:
        tx.execute("ROLLBACK TO process")
        tx.execute("RELEASE process")
        tx.execute(
            "UPDATE webhooks SET state = 'error', error = ? WHERE id = ?",
            (f"{type(exc).__name__}: {exc}", webhook_id),
        )
        error = f"{type(exc).__name__}: {exc}"
        tx.after_commit(
            lambda: log.error("webhook_processing_failed", webhook_id=webhook_id, error=error)
        )
        return None
    if webhook_id:
        tx.execute(
            "UPDATE webhooks SET state = 'processed', error = NULL WHERE id = ?", (webhook_id,)
        )
    return outcome


async def handle_webhook(request: web.Request) -> web.Response:
    """The Alertmanager webhook endpoint."""
    code = 500
    try:
        response = await _handle(request)
        code = response.status
        return response
    except web.HTTPException as exc:
        code = exc.status
        raise
    finally:
        WEBHOOKS.labels(str(code)).inc()


async def _handle(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    correlation_id = str(request[REQUEST_ID_KEY])
    rt.auth.require(request, "ingest")
    if request.content_type != "application/json":
        raise JSONHTTPError(
            415,
            f"expected Content-Type application/json, got {request.content_type!r}",
            field="Content-Type",
        )
    raw = await read_capped(request, rt.config.web.max_body_bytes)
    try:
        text = raw.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise JSONHTTPError(400, f"malformed JSON: {exc}", field="$") from None
    try:
        payload = parse_payload(data)
    except PayloadError as exc:
        raise JSONHTTPError(400, exc.message, field=exc.field) from None
    now = time.time()
    try:
        webhook_id, outcome = await rt.store.write(
            lambda tx: ingest_job(tx, rt.ctx, text, payload, correlation_id, now)
        )
    except StoreError as exc:
        log.error("webhook_not_stored", error=str(exc))
        raise JSONHTTPError(503, "could not store the webhook; retry later") from None
    doc: dict[str, Any] = {
        "status": "stored",
        "correlation_id": correlation_id,
        "webhook_id": webhook_id,
    }
    if outcome is not None:
        doc.update(
            incident_id=outcome.incident_id,
            new_events=outcome.new_events,
            duplicates=outcome.duplicates,
            notifications=len(outcome.notifications),
        )
    log.debug(
        "webhook_stored",
        alerts=len(payload.alerts),
        **{k: v for k, v in doc.items() if k != "correlation_id"},
    )
    return web.json_response(doc)
