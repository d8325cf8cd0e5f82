"""Providers that echo the request in a 500 error page: no secret of any channel (webhook
URL paths and query tokens, userinfo, bearer tokens, API-key headers, Twilio's Basic
credentials, PagerDuty's routing key) comes back out in stored attempts, dead letters,
channel-test answers (read with a viewer or admin token) or the receiver's JSON log."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.integration.receiver_harness import (
    ReceiverProcess,
    am_alert,
    am_payload,
    post_webhook,
    wait_for,
)
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
