"""`POST /api/v1/sms/twilio`: acknowledge or resolve an incident by answering its SMS.

Twilio posts each inbound message form-encoded and signs it (`X-Twilio-Signature`, an
HMAC of the URL and the fields under the channel's auth token), checked with the twilio
library's own `RequestValidator`; a bad signature is 403 and counts against the same
per-address throttle as failed API tokens. The signature is the credential, so the route
takes no bearer token.

`ACK 42` / `RESOLVE 42` acts on incident 42 only if the twilio channel
(`twilio_inbound.channel`) delivered a message about it to the sending number: the
numbers each incident's messages reached are recorded with it (see
`receiver.channels.sms_recipients`), so a number removed from `to` later can still answer
what it was sent, and a number added later cannot act on older incidents. The action goes
through the same `receiver.pipeline.actions` as the API, audited with the number as actor
and the channel. `ACK KTP` does the same with the incident's
short reply code (see `receiver.outbox.reply_codes`), which names one of the channel's
open incidents. Anything else from a number the channel has sent to gets a help reply; a
number it never sent to gets an empty answer and changes nothing. Replies are TwiML.
"""

from __future__ import annotations

import re
import time

import structlog
from aiohttp import web
from multidict import MultiDict
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from receiver.channels.sms_recipients import parse_recipients
from receiver.http.correlation import REQUEST_ID_KEY
from receiver.http.errors import JSONHTTPError
from receiver.http.forms import read_form
from receiver.http.state import app_state
from receiver.http.throttle import client_key
from receiver.metrics import AUTH_FAILURES
from receiver.model.actor import Actor
from receiver.outbox.messages import message_ref
from receiver.outbox.reply_codes import open_codes
from receiver.pipeline import actions
from receiver.store.base import StoreError, Tx

PATH = "/api/v1/sms/twilio"
# Twilio's inbound form has about 20 fields and a body of at most 1,600 characters.
MAX_FORM_BYTES = 32 * 1024
MAX_FIELDS = 64
HELP = "tocsin: reply ACK <incident> or RESOLVE <incident>, e.g. ACK 42 or ACK KTP."
# An incident id, or a reply code (letters only, so the two never overlap).
_COMMAND = re.compile(r"\s*(ack|resolve)\s+(?:#?(\d{1,12})|([a-z]{3,8}))\s*", re.IGNORECASE)
_ACTIONS = {"ack": actions.ack, "resolve": actions.manual_resolve}
_DONE = {"ack": "acknowledged", "resolve": "resolved"}

log = structlog.get_logger("receiver.sms")


def twiml(text: str | None) -> web.Response:
    """A TwiML answer: one reply message, or none."""
    doc = MessagingResponse()
    if text:
        doc.message(text)
    return web.Response(text=str(doc), content_type="text/xml")


def _check_signature(request: web.Request, token: str, url: str, form: MultiDict[str]) -> None:
    auth = app_state(request).auth
    client = client_key(request.remote)
    wait = auth.throttle.retry_after(client)
    if wait is not None:
        error = JSONHTTPError(
            429, "too many bad signatures from this address", field="X-Twilio-Signature",
            hint=f"retry after {wait} s",
        )  # fmt: skip
        error.headers["Retry-After"] = str(wait)
        raise error
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not RequestValidator(token).validate(url, form, signature):
        AUTH_FAILURES.inc()
        auth.throttle.failed(client)
        raise JSONHTTPError(
            403, "X-Twilio-Signature is missing or does not match", field="X-Twilio-Signature"
        )


def _known(tx: Tx, channel: str, number: str) -> bool:
    """Whether `channel` has ever delivered a message to `number` (about any incident)."""
    # The LIKE only narrows the rows; the parsed record decides. E.164 numbers hold no
    # LIKE wildcards, and anything else cannot be a recorded number.
    if not (number.startswith("+") and number[1:].isdigit()):
        return False
    rows = tx.all(
        "SELECT ref FROM channel_messages WHERE channel = ? AND ref LIKE ?",
        (channel, f'%"{number}"%'),
    )
    return any(number in parse_recipients(row["ref"]).numbers for row in rows)


def _by_code(tx: Tx, channel: str, code: str) -> int:
    """The open incident whose reply code on `channel` is `code`."""
    incident_id = open_codes(tx, channel).get(code.upper())
    if incident_id is None:
        raise actions.ActionError(404, f"no open incident has the code {code.upper()}")
    return incident_id


def _act(
    tx: Tx, request: web.Request, action: str, target: int | str, actor: Actor, now: float
) -> int:
    """Act on incident `target` (an id, or a reply code); returns the incident's id."""
    incident_id = target if isinstance(target, int) else _by_code(tx, actor.channel, target)
    sent_to = parse_recipients(message_ref(tx, incident_id, actor.channel)).numbers
    if actor.name not in sent_to:
        raise actions.ActionError(404, f"incident {target} was not sent to this number")
    _ACTIONS[action](tx, app_state(request).ctx, incident_id, actor, "", now)
    return incident_id


async def inbound(request: web.Request) -> web.Response:
    """`POST /api/v1/sms/twilio`: Twilio's inbound-message webhook."""
    state = app_state(request)
    cfg = state.config.twilio_inbound
    channel = state.config.channels.get(cfg.channel) if cfg is not None else None
    if cfg is None or channel is None or channel.type != "twilio":
        raise JSONHTTPError(404, "SMS replies are not configured", field="twilio_inbound")
    form = await read_form(request, MAX_FORM_BYTES, MAX_FIELDS)
    token = channel.options.auth_token.reveal()
    _check_signature(request, token, cfg.url or str(request.url), form)
    sender = form.get("From", "")
    try:
        known = await state.store.read(lambda tx: _known(tx, cfg.channel, sender))
    except StoreError as exc:
        raise JSONHTTPError(503, f"store unavailable: {exc}") from None
    if not known:
        log.info("sms_reply_ignored", reason="unknown sender", channel=cfg.channel)
        return twiml(None)
    command = _COMMAND.fullmatch(form.get("Body", ""))
    if command is None:
        return twiml(HELP)
    action = command.group(1).lower()
    target: int | str = int(command.group(2)) if command.group(2) else command.group(3)
    actor = Actor(sender, "sms", str(request.get(REQUEST_ID_KEY, "")), cfg.channel)
    try:
        incident_id = await state.store.write(
            lambda tx: _act(tx, request, action, target, actor, time.time())
        )
    except actions.ActionError as exc:
        return twiml(f"tocsin: {exc.message}.")
    except StoreError as exc:
        raise JSONHTTPError(503, f"store unavailable: {exc}") from None
    return twiml(f"tocsin: incident {incident_id} {_DONE[action]} by {sender}.")


def setup(app: web.Application) -> None:
    app.router.add_post(PATH, inbound)
