"""`POST /api/v1/slack/interactions`: the Slack app's interactivity request URL, where a
click on a bot message's Ack / Resolve button arrives.

Slack signs each request with the app's signing secret (`X-Slack-Signature`, an HMAC over
`v0:<timestamp>:<body>`); slack_sdk's `SignatureVerifier` checks it in constant time and
refuses a timestamp more than five minutes from now, so a captured request cannot be
replayed later. No bearer token is involved: the signature is the authentication, checked
against the `signing_secret` of every Slack channel that has one. The action then runs
through `receiver.pipeline.actions`, the path the API's own ack and resolve take, with the
Slack user as the audited actor and the channel as where it came from.

A request whose signature or timestamp fails counts against the same per-address throttle
as failed API tokens and Twilio signatures (`receiver.http.throttle`): past the limit the
address is answered 429 with Retry-After, before its body is read or any HMAC computed. A
request without a signature header tried nothing and is not counted.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import parse_qs

import structlog
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from receiver.api.writes import act
from receiver.channels.slack_buttons import ACTIONS
from receiver.config import Config
from receiver.http.body import read_capped
from receiver.http.correlation import REQUEST_ID_KEY
from receiver.http.errors import JSONHTTPError
from receiver.http.state import app_state
from receiver.http.throttle import client_key
from receiver.metrics import AUTH_FAILURES, AUTH_THROTTLED_ADDRESSES, AUTH_THROTTLED_REQUESTS
from receiver.model.actor import Actor
from receiver.pipeline import actions

PATH = "/api/v1/slack/interactions"
# Slack's interaction payloads carry the message clicked on: kilobytes, never megabytes.
_MAX_BODY = 1 << 20
# Slack's own tolerance, which its verifier applies too.
_MAX_SKEW = 5 * 60
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_ID = re.compile(r"[0-9]{1,18}")
_NAME_MAX = 100
_SIGNATURE_HEADER = "X-Slack-Signature"
_TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
_RUN = {"ack": actions.ack, "resolve": actions.manual_resolve}

log = structlog.get_logger("receiver.slack")


def signing_secrets(config: Config) -> list[tuple[str, str]]:
    """(channel name, signing secret) of every Slack channel that has one."""
    found = []
    for name, cc in config.channels.items():
        secret = getattr(cc.options, "signing_secret", None) if cc.type == "slack" else None
        if secret is not None:
            found.append((name, secret.reveal()))
    return found


def _verified_channel(
    secrets: list[tuple[str, str]], body: bytes, timestamp: str, signature: str
) -> str | None:
    """The channel whose secret signed the body; every secret is tried, so the time taken
    does not tell which one matched or how far a forgery got."""
    matched = [
        name
        for name, secret in secrets
        if SignatureVerifier(secret).is_valid(body, timestamp, signature)
    ]
    return matched[0] if matched else None


async def _authenticate(request: web.Request, secrets: list[tuple[str, str]]) -> tuple[str, bytes]:
    """The channel the request is signed for and its body; 429 while the caller's address
    is throttled, 401 JSON errors otherwise (each counted against that address)."""
    throttle = app_state(request).auth.throttle
    client = client_key(request.remote)
    wait = throttle.retry_after(client)
    if wait is not None:
        AUTH_THROTTLED_REQUESTS.inc()
        error = JSONHTTPError(
            429, "too many bad signatures from this address", field=_SIGNATURE_HEADER,
            hint=f"retry after {wait} s",
        )  # fmt: skip
        error.headers["Retry-After"] = str(wait)
        raise error
    try:
        return await _verify(request, secrets)
    except JSONHTTPError as exc:
        if exc.status == 401 and request.headers.get(_SIGNATURE_HEADER):
            AUTH_FAILURES.inc()
            if throttle.failed(client):
                AUTH_THROTTLED_ADDRESSES.inc()
                log.warning(
                    "slack_signatures_throttled",
                    client=client,
                    failures=throttle.max_failures,
                    window_seconds=throttle.window,
                )
        raise


async def _verify(request: web.Request, secrets: list[tuple[str, str]]) -> tuple[str, bytes]:
    """The channel the request is signed for and its body; 401 JSON errors otherwise."""
    timestamp = request.headers.get(_TIMESTAMP_HEADER, "")
    signature = request.headers.get(_SIGNATURE_HEADER, "")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise JSONHTTPError(401, "missing or malformed request timestamp", field=_TIMESTAMP_HEADER)
    if not signature:
        raise JSONHTTPError(401, "missing request signature", field=_SIGNATURE_HEADER)
    if abs(time.time() - int(timestamp)) > _MAX_SKEW:
        raise JSONHTTPError(
            401, "request timestamp is more than 5 minutes from now", field=_TIMESTAMP_HEADER
        )
    body = await read_capped(request, _MAX_BODY)
    channel = _verified_channel(secrets, body, timestamp, signature)
    if channel is None:
        raise JSONHTTPError(401, "signature does not match", field=_SIGNATURE_HEADER)
    return channel, body


def _payload(body: bytes) -> dict[str, Any]:
    """The form's `payload` field as a JSON object; 400 naming it otherwise."""
    try:
        form = parse_qs(body.decode("utf-8"), strict_parsing=bool(body), max_num_fields=50)
        values = form.get("payload", [])
        doc = json.loads(values[0]) if len(values) == 1 else None
    except (UnicodeDecodeError, ValueError):
        doc = None
    if not isinstance(doc, dict):
        raise JSONHTTPError(
            400, "expected one form field `payload` holding a JSON object", field="payload"
        )
    return doc


def _action(doc: dict[str, Any]) -> tuple[str, int]:
    """(ack or resolve, incident id) of the clicked button; 400 naming the field otherwise."""
    if doc.get("type") != "block_actions":
        raise JSONHTTPError(400, "expected block_actions", field="payload.type")
    clicked = doc.get("actions")
    if not isinstance(clicked, list) or not clicked or not isinstance(clicked[0], dict):
        raise JSONHTTPError(400, "expected the clicked button", field="payload.actions")
    action = ACTIONS.get(str(clicked[0].get("action_id")))
    if action is None:
        raise JSONHTTPError(
            400,
            f"expected one of {', '.join(sorted(ACTIONS))}",
            field="payload.actions[0].action_id",
        )
    value = clicked[0].get("value")
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise JSONHTTPError(400, "expected an incident id", field="payload.actions[0].value")
    return action, int(value)


def _slack_user(doc: dict[str, Any]) -> str:
    """The clicking user's Slack name (or id), as the audit log's actor."""
    user = doc.get("user")
    if not isinstance(user, dict):
        raise JSONHTTPError(400, "expected the Slack user", field="payload.user")
    for key in ("username", "name", "id"):
        value = user.get(key)
        if isinstance(value, str) and value.strip():
            return "slack:" + value.strip()[:_NAME_MAX]
    raise JSONHTTPError(400, "expected the Slack user's id", field="payload.user.id")


async def interaction(request: web.Request) -> web.Response:
    """Verify the signature, then ack or resolve the incident the button names."""
    secrets = signing_secrets(app_state(request).config)
    if not secrets:
        raise JSONHTTPError(404, "Slack interactivity is not configured", field="signing_secret")
    channel, body = await _authenticate(request, secrets)
    doc = _payload(body)
    action, incident_id = _action(doc)
    actor = Actor(
        _slack_user(doc), "operator", str(request.get(REQUEST_ID_KEY, "")), channel=channel
    )
    ctx = app_state(request).ctx
    run = _RUN[action]
    await act(request, lambda tx, now: run(tx, ctx, incident_id, actor, "", now))
    return web.json_response({"ok": True, "action": action, "incident": incident_id})


def setup(app: web.Application) -> None:
    app.router.add_post(PATH, interaction)
