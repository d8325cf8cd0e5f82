"""Providers that echo the request in a 500 error page: no secret of any channel (webhook
URL paths and query tokens, userinfo, bearer tokens, API-key headers, Twilio's Basic
credentials, PagerDuty's routing key) comes back out in stored attempts, dead letters,
channel-test answers (read with a viewer or admin token) or the receiver's JSON log; nor
the SMTP password from a mail server that echoes the AUTH line in a temporary failure."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.integration.receiver_harness import (
    ReceiverProcess,
    am_alert,
    am_payload,
    post_webhook,
    wait_for,
)
from tests.procs import free_port
from tests.sinks.echo import EchoSink
from tests.sinks.tls import make_self_signed

pytestmark = pytest.mark.integration

TOKENS = {"ingest": "ingest-tok-1", "viewer": "viewer-tok-1", "admin": "admin-tok-1"}
SLACK_PATH_TOKEN = "SlackHookSecret0123456789"
SLACK_BOT_TOKEN = "xoxb-SlackBotTokenSecret42"
DISCORD_TOKEN = "DiscordHookTokenSecret-abcdefghijklmnop"
TEAMS_SIG = "TeamsSigSecret0123456789abcdefXYZ"
HOOK_PASSWORD = "HookPasswordSecret77"
HOOK_QUERY_TOKEN = "HookQueryTokenSecret88"
HOOK_BEARER = "HookBearerSecret99"
HOOK_API_KEY = "HookApiKeySecret00"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "TwilioAuthTokenSecret123"
PD_KEY = "R0ut1ngKeyS3cret0000000000000000"


def _basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


SECRETS = [
    SLACK_PATH_TOKEN,
    SLACK_BOT_TOKEN,
    DISCORD_TOKEN,
    TEAMS_SIG,
    HOOK_PASSWORD,
    HOOK_QUERY_TOKEN,
    HOOK_BEARER,
    HOOK_API_KEY,
    TWILIO_TOKEN,
    PD_KEY,
    _basic("hookuser", HOOK_PASSWORD),
    _basic(TWILIO_SID, TWILIO_TOKEN),
]


def _channels(http: str, https: str, ca_file: Path) -> list[dict[str, Any]]:
    port = http.rsplit(":", 1)[1]
    return [
        {
            "name": "slack-hook",
            "type": "slack",
            "webhook_url": f"{http}/services/T0TEAM00/B0BOT000/{SLACK_PATH_TOKEN}",
        },
        {
            "name": "slack-bot",
            "type": "slack",
            "token": SLACK_BOT_TOKEN,
            "channel": "#ops",
            "base_url": f"{http}/api/",
        },
        {
            "name": "discord",
            "type": "discord",
            "webhook_url": f"{http}/api/webhooks/1234567890/{DISCORD_TOKEN}",
        },
        {
            "name": "teams",
            "type": "teams",
            "webhook_url": f"{http}/workflows/0f0f/triggers/manual/paths/invoke"
            f"?api-version=2016-06-01&sig={TEAMS_SIG}",
        },
        {
            "name": "hook-userinfo",
            "type": "webhook",
            "url": f"http://hookuser:{HOOK_PASSWORD}@127.0.0.1:{port}/hook?token={HOOK_QUERY_TOKEN}",
        },
        {
            "name": "hook-bearer",
            "type": "webhook",
            "url": f"{http}/hook",
            "bearer_token": HOOK_BEARER,
            "headers": {"X-Api-Key": HOOK_API_KEY},
        },
        {
            "name": "sms",
            "type": "twilio",
            "account_sid": TWILIO_SID,
            "auth_token": TWILIO_TOKEN,
            "from_number": "+15550000000",
            "to": ["+15551111111"],
            "base_url": http,
        },
        {
            "name": "pd",
            "type": "pagerduty",
            "routing_key": PD_KEY,
            "base_url": https,
            "ca_file": str(ca_file),
        },
    ]


def _tokens() -> list[dict[str, Any]]:
    return [{"name": role, "roles": [role], "token": tok} for role, tok in TOKENS.items()]


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


async def test_echoed_secrets_are_redacted_everywhere(tmp_path: Path) -> None:
    tls = make_self_signed(tmp_path)
    async with (
        EchoSink(json_paths=("/api/webhooks",)) as http,
        EchoSink(tls.server_context()) as https,
    ):
        assert isinstance(http, EchoSink) and isinstance(https, EchoSink)
        channels = _channels(http.url, https.url, tls.cert_file)
        names = [c["name"] for c in channels]
        cfg = {
            "channels": channels,
            "default_route": {"channels": names},
            "outbox": {"max_attempts": 1},
            "auth": {"tokens": _tokens()},
        }
        receiver = await ReceiverProcess(tmp_path, cfg).start()
        try:
            auth = {"Authorization": f"Bearer {TOKENS['ingest']}"}
            async with aiohttp.ClientSession() as s:
                status, _ = await post_webhook(
                    s, receiver.url, am_payload("echo", [am_alert("e1")]), auth
                )
            assert status == 200

            dead: dict[str, Any] = {}

            async def all_dead() -> bool:
                status, doc = await receiver.api("GET", "/api/v1/deadletters", TOKENS["admin"])
                assert status == 200, doc
                dead.update(doc)
                return int(doc["count"]) == len(names)

            await wait_for(all_dead, 60, what="every channel's notification dead-lettered")
            incident = await receiver.incident_id("echo", TOKENS["viewer"])
            status, detail = await receiver.api(
                "GET", f"/api/v1/incidents/{incident}", TOKENS["viewer"]
            )
            assert status == 200, detail
            tests = {}
            for name in names:
                status, answer = await receiver.api(
                    "POST", f"/api/v1/channels/{name}/test", TOKENS["admin"]
                )
                assert status == 200, answer
                assert answer["ok"] is False, answer
                tests[name] = answer
        finally:
            receiver.stop()
        echoed = http.echoed + https.echoed

    # The echoes did carry every secret, near enough the start of the page to be kept.
    missing = [s for s in SECRETS if not any(s in page[:550] for page in echoed)]
    assert missing == [HOOK_PASSWORD, TWILIO_TOKEN], missing  # sent in Basic credentials
    attempts = {n["channel"]: n["attempt_log"] for n in detail["notifications"]}
    assert sorted(attempts) == sorted(names)
    for name in ("slack-hook", "discord", "teams", "hook-userinfo", "hook-bearer", "pd"):
        assert "<redacted>" in attempts[name][0]["error"], (name, attempts[name])
        assert "<redacted>" in tests[name]["error"], (name, tests[name])
    assert "500" in attempts["discord"][0]["error"]
    for where, text in [
        ("attempts", json.dumps(detail)),
        ("dead letters", json.dumps(dead)),
        ("channel tests", json.dumps(tests)),
        ("log", receiver.log()),
    ]:
        assert not _leaks(text), (where, _leaks(text))
    assert "notification_dead_letter" in receiver.log()


SMTP_USER = "tocsin"
SMTP_PASSWORD = "SmtpPasswordSecret42"
SMTP_SECRETS = [
    SMTP_PASSWORD,
    base64.b64encode(f"\0{SMTP_USER}\0{SMTP_PASSWORD}".encode()).decode(),
    base64.b64encode(SMTP_PASSWORD.encode()).decode(),
]


class EchoingMailServer:
    """Accepts any AUTH, then refuses the message (451, temporary) quoting the AUTH line."""

    def __init__(self) -> None:
        self.credentials = ""
        self.replies: list[str] = []

    def authenticator(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        user, password = auth_data.login.decode(), auth_data.password.decode()
        plain = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        self.credentials = f"AUTH {mechanism} {plain} (login {user}, password {password})"
        return AuthResult(success=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = f"451 4.3.0 cannot queue now; you sent {self.credentials}"
        self.replies.append(reply)
        return reply


async def test_smtp_echo_of_the_auth_line_is_redacted(tmp_path: Path) -> None:
    tls = make_self_signed(tmp_path)
    mail = EchoingMailServer()
    controller = Controller(
        mail,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=mail.authenticator,
        auth_required=True,
        tls_context=tls.server_context(),
        require_starttls=True,
    )
    await asyncio.to_thread(controller.start)
    channel = {
        "name": "mail",
        "type": "email",
        "host": "127.0.0.1",
        "port": controller.port,
        "sender": "alerts@tocsin.example",
        "to": ["oncall@example.com"],
        "username": SMTP_USER,
        "password": SMTP_PASSWORD,
        "ca_file": str(tls.cert_file),
    }
    cfg = {
        "channels": [channel],
        "default_route": {"channels": ["mail"]},
        "outbox": {"max_attempts": 1},
        "auth": {"tokens": _tokens()},
    }
    receiver = await ReceiverProcess(tmp_path, cfg).start()
    try:
        async with aiohttp.ClientSession() as s:
            status, _ = await post_webhook(
                s,
                receiver.url,
                am_payload("smtp", [am_alert("m1")]),
                {"Authorization": f"Bearer {TOKENS['ingest']}"},
            )
        assert status == 200
        dead: dict[str, Any] = {}

        async def is_dead() -> bool:
            status, doc = await receiver.api("GET", "/api/v1/deadletters", TOKENS["admin"])
            dead.update(doc)
            return status == 200 and int(doc["count"]) == 1

        await wait_for(is_dead, 60, what="the mail dead-lettered")
        incident = await receiver.incident_id("smtp", TOKENS["viewer"])
        _, detail = await receiver.api("GET", f"/api/v1/incidents/{incident}", TOKENS["viewer"])
        _, test = await receiver.api("POST", "/api/v1/channels/mail/test", TOKENS["admin"])
    finally:
        receiver.stop()
        await asyncio.to_thread(controller.stop)
    # The password and the AUTH PLAIN line were echoed (AUTH LOGIN's form is never sent).
    assert all(any(x in r for r in mail.replies) for x in SMTP_SECRETS[:2]), mail.replies
    [attempt] = detail["notifications"][0]["attempt_log"]
    assert attempt["status"] == "451" and "<redacted>" in attempt["error"], attempt
    assert "<redacted>" in str(test["error"]), test
    for where, text in [
        ("attempts", json.dumps(detail)),
        ("dead letters", json.dumps(dead)),
        ("channel test", json.dumps(test)),
        ("log", receiver.log()),
    ]:
        leaks = [x for x in SMTP_SECRETS if x in text]
        assert not leaks, (where, leaks)
