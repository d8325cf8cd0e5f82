"""Provider channels inside a real receiver process: outbox retries, Retry-After, dead
letters, and PagerDuty's trigger → acknowledge → resolve lifecycle across a crash."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from receiver.channels.pagerduty import dedup_key
from tests.integration.receiver_harness import (
    ReceiverProcess,
    am_alert,
    am_payload,
    post_webhook,
    wait_for,
)
from tests.sinks.base import Reply
from tests.sinks.discord import DiscordSink, rate_limited
from tests.sinks.pagerduty import PagerDutySink
from tests.sinks.slack import SlackSink
from tests.sinks.teams import TeamsSink
from tests.sinks.tls import SelfSigned, make_self_signed
from tests.sinks.twilio import TwilioSink, twilio_error

pytestmark = pytest.mark.integration
ADMIN = "admin-token-for-outbox-tests"
PD_KEY = "OutboxRoutingKey0000000000000000"
TWILIO_SID = "AC" + "2" * 32
TWILIO_TOKEN = "outbox-twilio-token"


def base_config(tmp_path: Path, channels: list[dict[str, Any]]) -> dict[str, Any]:
    (tmp_path / "admin.token").write_text(ADMIN + "\n")
    return {
        "channels": channels,
        "default_route": {"channels": [c["name"] for c in channels]},
        "outbox": {"backoff_initial": "100ms", "backoff_max": "1s", "max_attempts": 4},
        "auth": {
            "tokens": [
                {
                    "name": "admin",
                    "roles": ["admin", "ingest"],
                    "token_file": str(tmp_path / "admin.token"),
                }
            ]
        },
    }


async def post(receiver: ReceiverProcess, payload: dict[str, Any]) -> None:
    async with aiohttp.ClientSession() as s:
        status, doc = await post_webhook(
            s, receiver.url, payload, {"Authorization": f"Bearer {ADMIN}"}
        )
    assert status == 200, doc


async def deadletters(receiver: ReceiverProcess) -> list[dict[str, Any]]:
    status, doc = await receiver.api("GET", "/api/v1/deadletters", ADMIN)
    assert status == 200, doc
    items: list[dict[str, Any]] = doc["deadletters"]
    return items


@pytest.fixture
def tls(tmp_path: Path) -> SelfSigned:
    return make_self_signed(tmp_path)


@pytest.fixture
async def slack() -> AsyncIterator[SlackSink]:
    async with SlackSink() as s:
        yield s  # type: ignore[misc]


async def test_slack_retries_honour_retry_after_then_dead_letter(
    tmp_path: Path, slack: SlackSink
) -> None:
    cfg = base_config(
        tmp_path,
        [{"name": "ops", "type": "slack", "webhook_url": f"{slack.url}/services/T/B/hooksecret"}],
    )
    receiver = await ReceiverProcess(tmp_path, cfg).start()
    try:
        slack.script(Reply(503, "service_unavailable"), Reply(429, "", {"Retry-After": "2"}))
        await post(receiver, am_payload("flaky", [am_alert("s1")]))
        await wait_for(lambda: len(slack.requests) == 3, 30, what="third Slack attempt")
        first, second, third = slack.requests
        assert third.at - second.at >= 2.0, "Retry-After not respected"
        assert first.json == third.json
        assert third.json["text"].startswith("[FIRING:1] Test")
        assert await deadletters(receiver) == []
        # A permanent refusal is not retried: one attempt, then a dead letter.
        slack.script(Reply(404, "no_service"))
        await post(receiver, am_payload("gone", [am_alert("s2")]))

        async def dead() -> bool:
            return len(await deadletters(receiver)) == 1

        await wait_for(dead, 30, what="dead letter")
        [letter] = await deadletters(receiver)
        assert "no_service" in json.dumps(letter)
        assert "hooksecret" not in json.dumps(letter)
        assert len(slack.requests) == 4
    finally:
        receiver.stop()
    assert "hooksecret" not in receiver.log_path.read_text()


async def test_discord_teams_twilio_through_the_outbox(tmp_path: Path) -> None:
    async with (
        DiscordSink() as discord,
        TeamsSink() as teams,
        TwilioSink(TWILIO_SID, TWILIO_TOKEN) as sms,
    ):
        cfg = base_config(
            tmp_path,
            [
                {
                    "name": "chat",
                    "type": "discord",
                    "webhook_url": f"{discord.url}/api/webhooks/1/discordsecret",
                },
                {
                    "name": "team",
                    "type": "teams",
                    "webhook_url": f"{teams.url}/workflows/w/triggers/manual/paths/invoke"
                    "?sig=teamssig",
                },
                {
                    "name": "sms",
                    "type": "twilio",
                    "account_sid": TWILIO_SID,
                    "auth_token": TWILIO_TOKEN,
                    "from_number": "+15550000001",
                    "to": ["+15550000002"],
                    "base_url": sms.url,
                },
            ],
        )
        discord.script(rate_limited(1.5))
        teams.script(Reply(502, "bad gateway"))
        sms.script(twilio_error(400, 21211, "The 'To' number is not a valid phone number."))
        receiver = await ReceiverProcess(tmp_path, cfg).start()
        try:
            await post(receiver, am_payload("multi", [am_alert("m1", severity="critical")]))
            await wait_for(lambda: len(discord.requests) == 2, 30, what="discord retry")
            await wait_for(lambda: len(teams.requests) == 2, 30, what="teams retry")

            async def dead() -> bool:
                return len(await deadletters(receiver)) == 1

            await wait_for(dead, 30, what="sms dead letter")
            assert discord.requests[1].at - discord.requests[0].at >= 1.5
            assert discord.requests[1].json["embeds"][0]["color"] == 0xD32F2F
            [letter] = await deadletters(receiver)
            assert "21211" in json.dumps(letter)
            assert len(sms.requests) == 1
        finally:
            receiver.stop()
        log = receiver.log_path.read_text()
        for secret in ("discordsecret", "teamssig", TWILIO_TOKEN):
            assert secret not in log


async def test_pagerduty_lifecycle_and_repeat_after_crash(tmp_path: Path, tls: SelfSigned) -> None:
    async with PagerDutySink(tls.server_context()) as pd:
        cfg = base_config(
            tmp_path,
            [
                {
                    "name": "pager",
                    "type": "pagerduty",
                    "routing_key": PD_KEY,
                    "base_url": pd.url,
                    "ca_file": str(tls.cert_file),
                }
            ],
        )
        receiver = await ReceiverProcess(tmp_path, cfg).start()
        try:
            firing = am_payload("disk", [am_alert("p1", severity="critical")])
            await post(receiver, firing)
            await wait_for(lambda: len(pd.events) == 1, 30, what="trigger")
            key = pd.events[0]["dedup_key"]
            assert pd.events[0]["event_action"] == "trigger"
            status, doc = await receiver.api("GET", "/api/v1/incidents", ADMIN)
            [incident] = doc["incidents"]
            assert key == dedup_key(incident)
            status, doc = await receiver.api(
                "POST", f"/api/v1/incidents/{incident['id']}/ack", ADMIN, {"comment": "on it"}
            )
            assert status == 200, doc
            await wait_for(lambda: len(pd.events) == 2, 30, what="acknowledge")
            assert pd.events[1] == {
                "event_action": "acknowledge",
                "dedup_key": key,
                "routing_key": PD_KEY,
            }
            assert pd.incidents[key] == "acknowledged"
            # Crash, restart on the same storage; Alertmanager repeats the firing group.
            receiver.kill()
            receiver = await ReceiverProcess(tmp_path, cfg, storage=receiver.storage).start()
            await post(receiver, firing)
            resolved = am_payload(
                "disk", [am_alert("p1", status="resolved", severity="critical")], status="resolved"
            )
            await post(receiver, resolved)
            await wait_for(lambda: pd.incidents.get(key) == "resolved", 30, what="resolve")
            assert {e["dedup_key"] for e in pd.events} == {key}
            assert [e["event_action"] for e in pd.events][:2] == ["trigger", "acknowledge"]
            assert pd.events[-1]["event_action"] == "resolve"
            assert len(pd.incidents) == 1
        finally:
            receiver.stop()
        assert PD_KEY not in receiver.log_path.read_text()
