"""SMS through Twilio's Messages API, with the `twilio` library's asyncio HTTP client.

One message per recipient, each body at most 1,600 characters (Twilio's limit for a
concatenated SMS). A retry only goes to recipients that have not received the message yet,
so a partial failure does not page the others twice. Twilio's error codes decide whether
a failure is worth retrying. The numbers reached about an incident are kept with it (the
channel's `message_ref`, see `receiver.channels.sms_recipients`), so replies can be checked
against who was actually sent the message.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from receiver.channels.base import Channel, SendResult, register
from receiver.channels.budget import LIMITS, fit_alerts
from receiver.channels.redact import basic_auth, describe_exception
from receiver.channels.sms_recipients import parse_recipients
from receiver.model.notification import Notification
from receiver.templates.clip import clip
from receiver.templates.context import build_context, relevant_count
from servicekit.sections import Unavailable
from servicekit.values import Duration, Secret

# Twilio error codes that a later attempt can succeed on (rate limits, queue overflow,
# temporary service problems); any other 4xx code is a configuration or recipient problem.
RETRYABLE_CODES = {20429, 20500, 20503, 30001, 14107}
PERMANENT_HINTS = {
    20003: "authentication failed (check account_sid and auth_token)",
    20404: "resource not found (check account_sid)",
    21211: "invalid 'To' phone number",
    21408: "permission to send to this region is not enabled",
    21606: "the 'From' number cannot send SMS",
    21608: "trial accounts can only send to verified numbers",
    21610: "the recipient has unsubscribed (replied STOP)",
    21612: "cannot route to this number",
    21614: "'To' is not a mobile number",
    21617: "message body too long",
}

_http_log = logging.getLogger("receiver.channels.twilio.http")
_http_log.setLevel(logging.WARNING)


@dataclass
class TwilioConfig:
    """Twilio credentials, the sender and the recipients (E.164 numbers)."""

    account_sid: str
    auth_token: Secret
    to: list[str]
    from_number: str | None = None
    messaging_service_sid: str | None = None
    base_url: str = "https://api.twilio.com"
    timeout: Duration = Duration(10)

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        # Each check on its own: one reading a key that failed to parse is skipped (that
        # key's problem is reported already) and the others still run.
        with suppress(Unavailable):
            if not self.account_sid.startswith("AC"):
                problems.append(("account_sid", "expected an account SID starting with AC"))
        with suppress(Unavailable):
            if not self.to:
                problems.append(("to", "expected at least one phone number"))
            for i, number in enumerate(self.to):
                if not (number.startswith("+") and number[1:].isdigit()):
                    problems.append(
                        (f"to[{i}]", f"expected an E.164 number like +15551234567, got {number!r}")
                    )
        with suppress(Unavailable):
            if (self.from_number is None) == (self.messaging_service_sid is None):
                problems.append(("", "set exactly one of from_number or messaging_service_sid"))
        with suppress(Unavailable):
            if not self.base_url.startswith(("https://", "http://")):
                problems.append(("base_url", "expected an http(s) URL"))
        return problems


def build_body(channel: Channel, notification: Notification, limit: int | None) -> str:
    """The SMS text showing at most `limit` alerts."""
    ctx = build_context(notification, channel.name, limit, channel.templates.grafana_url)
    ctx["reply_code"] = parse_recipients(notification.message_ref).code
    text = str(
        channel.templates.render("twilio", notification.kind, "body.txt", ctx, channel=channel.name)
    )
    return text


def fitted_body(channel: Channel, notification: Notification) -> str:
    """The longest body within 1,600 characters, with "+N more" for alerts left out."""
    body = fit_alerts(
        lambda n: build_body(channel, notification, n),
        relevant_count(notification),
        lambda b: len(b) <= LIMITS.sms_body,
    )
    return clip(body, LIMITS.sms_body)


def classify_twilio_error(exc: TwilioRestException) -> SendResult:
    """Retryable for 429/5xx and Twilio's transient codes, permanent otherwise."""
    status = int(exc.status or 0)
    code = int(exc.code or 0)
    hint = PERMANENT_HINTS.get(code, "")
    text = f"twilio: HTTP {status}, error {code}: {exc.msg}" + (f" ({hint})" if hint else "")
    if status == 429 or status >= 500 or code in RETRYABLE_CODES:
        return SendResult.retryable(text, status=str(status))
    return SendResult.permanent(text, status=str(status))


@register
class TwilioChannel(Channel):
    """Sends one SMS per recipient through twilio's Client with AsyncTwilioHttpClient."""

    type: ClassVar[str] = "twilio"
    Config = TwilioConfig
    config: TwilioConfig

    def __init__(self, name: str, config: TwilioConfig, templates: Any) -> None:
        super().__init__(name, config, templates)
        self._http: AsyncTwilioHttpClient | None = None
        self._client: Client | None = None
        # Recipients already reached per notification, so retries skip them.
        self._reached: dict[str, set[str]] = {}

    def secrets(self) -> list[str]:
        """The auth token, and the Basic credentials it is sent in."""
        token = self.config.auth_token.reveal()
        return [*super().secrets(), basic_auth(self.config.account_sid, token)]

    async def start(self) -> None:
        if self._client is not None:
            return
        self._http = AsyncTwilioHttpClient(timeout=float(self.config.timeout), logger=_http_log)
        self._client = Client(
            self.config.account_sid, self.config.auth_token.reveal(), http_client=self._http
        )
        # The Messages API lives on the `api` domain; pointing it elsewhere is for testing
        # and for Twilio's regional endpoints.
        self._client.api.base_url = self.config.base_url.rstrip("/")

    @property
    def keeps_message(self) -> bool:
        """Always: the outbox then keeps, per incident, the numbers a message reached."""
        return True

    @property
    def wants_reply_code(self) -> bool:
        """When replies to this channel are taken (`twilio_inbound`): `ACK KTP` is shorter
        to type than an incident id."""
        return self.name in self.templates.sms_replies

    def preview(self, notification: Notification) -> str:
        """What `send` would send to each recipient, for `tocsin-receiver render`."""
        sender = self.config.from_number or f"service {self.config.messaging_service_sid}"
        body = fitted_body(self, notification)
        head = f"From: {sender}\nTo: {', '.join(self.config.to)}\nLength: {len(body)}/1600\n"
        return f"{head}\n{body}"

    async def deliver(self, notification: Notification) -> SendResult:
        await self.start()
        assert self._client is not None
        body = fitted_body(self, notification)
        reached = self._reached.setdefault(notification.idempotency_key, set())
        sids: list[str] = []
        failures: list[SendResult] = []
        for number in self.config.to:
            if number in reached:
                continue
            result, sid = await self._send_one(number, body)
            if result.ok:
                reached.add(number)
                sids.append(sid)
            else:
                failures.append(result)
        # Even a failed attempt reports who it reached: those numbers did get the message.
        ref = (
            parse_recipients(notification.message_ref).reached(reached).dumps() if reached else None
        )
        if not failures:
            self._reached.pop(notification.idempotency_key, None)
            return SendResult.delivered(status="201", response=" ".join(sids), message_ref=ref)
        retry = any(f.retry for f in failures)
        errors = "; ".join(f.error or "" for f in failures)
        if retry:
            return replace(SendResult.retryable(errors, status=failures[0].status), message_ref=ref)
        self._reached.pop(notification.idempotency_key, None)
        return replace(SendResult.permanent(errors, status=failures[0].status), message_ref=ref)

    async def _send_one(self, number: str, body: str) -> tuple[SendResult, str]:
        assert self._client is not None
        kwargs: dict[str, Any] = {"to": number, "body": body}
        if self.config.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.config.messaging_service_sid
        else:
            kwargs["from_"] = self.config.from_number
        try:
            message = await self._client.messages.create_async(**kwargs)
        except TwilioRestException as exc:
            return classify_twilio_error(exc), ""
        except (TimeoutError, TwilioException, aiohttp.ClientError, OSError) as exc:
            text = describe_exception(exc, self.secrets())
            return SendResult.retryable(f"twilio: {text}"), ""
        return SendResult.delivered(), str(message.sid)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = None
        self._client = None
