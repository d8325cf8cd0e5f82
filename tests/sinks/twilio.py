"""Twilio Programmable Messaging: `POST /2010-04-01/Accounts/{sid}/Messages.json`.

Checks HTTP basic auth (account SID and auth token), the form fields To, From (or
MessagingServiceSid) and Body (≤ 1,600 characters), and answers 201 with a Message resource
or a Twilio error object (`code`, `message`, `more_info`, `status`).
"""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from tests.sinks.base import Reply, Sink

BODY_LIMIT = 1600
_TOO_LONG = "The concatenated message body exceeds the 1600 character limit."


def twilio_error(status: int, code: int, message: str) -> Reply:
    """A reply shaped like Twilio's REST error responses."""
    return Reply(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


class TwilioSink(Sink):
    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict[str, str]] = []
        super().__init__()

    def routes(self) -> None:
        self.app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self.create)

    async def create(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        scripted = self.scripted()
        if scripted is not None:
            return scripted
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if (
            recorded.headers.get("Authorization") != f"Basic {expected}"
            or request.match_info["sid"] != self.account_sid
        ):
            return twilio_error(401, 20003, "Authenticate").response()
        form = {k: v[0] for k, v in recorded.form.items()}
        if not form.get("To"):
            return twilio_error(400, 21604, "A 'To' phone number is required.").response()
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return twilio_error(400, 21603, "A 'From' phone number is required.").response()
        if len(form.get("Body", "")) > BODY_LIMIT:
            return twilio_error(400, 21617, _TOO_LONG).response()
        self.messages.append(form)
        sid = f"SM{len(self.messages):032x}"
        resource: dict[str, Any] = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": form["To"],
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form.get("Body", ""),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": "Thu, 30 Jul 2015 20:12:31 +0000",
            "date_updated": "Thu, 30 Jul 2015 20:12:33 +0000",
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {},
        }
        return web.json_response(resource, status=201)
