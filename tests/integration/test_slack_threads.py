"""One Slack message per incident through the real slack_sdk against a local Slack API,
inside a real receiver process: posted once, edited in place with `chat.update` on the
stored ts, follow-ups in its thread, and Ack / Resolve buttons whose signed clicks act."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
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
from tests.integration.slack_signing import button_payload, post_interaction, signed
from tests.metrics import parse_series, selected
from tests.procs import REPO, run_module
from tests.sinks.slack import SlackSink

pytestmark = pytest.mark.integration
ADMIN = "admin-token-for-slack-threads"
BOT_TOKEN = "xoxb-thread-test-token"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def config(tmp_path: Path, slack: SlackSink) -> dict[str, Any]:
    (tmp_path / "slack.token").write_text(BOT_TOKEN + "\n")
    (tmp_path / "slack.signing").write_text(SIGNING_SECRET + "\n")
    return {
        "channels": [
            {
                "name": "ops-slack",
                "type": "slack",
                "token_file": str(tmp_path / "slack.token"),
                "channel": "C0123",
                "base_url": f"{slack.url}/api/",
                "signing_secret_file": str(tmp_path / "slack.signing"),
            }
        ],
        "routes": [{"matchers": ['group="esc"'], "escalation": "page"}],
        "escalation_policies": [
            {
                "name": "page",
                "steps": [
                    {"after": "0s", "channels": ["ops-slack"]},
                    {"after": "1s", "channels": ["ops-slack"]},
                ],
            }
        ],
        "default_route": {"channels": ["ops-slack"]},
        "outbox": {"backoff_initial": "100ms", "backoff_max": "1s"},
        "auth": {"tokens": [{"name": "admin", "roles": ["admin", "ingest"], "token": ADMIN}]},
    }


@pytest.fixture
async def slack() -> AsyncIterator[SlackSink]:
    async with SlackSink(token=BOT_TOKEN) as s:
        yield s  # type: ignore[misc]


@pytest.fixture
async def receiver(tmp_path: Path, slack: SlackSink) -> AsyncIterator[ReceiverProcess]:
    proc = await ReceiverProcess(tmp_path, config(tmp_path, slack)).start()
    try:
        yield proc
    finally:
        proc.stop()
    assert SIGNING_SECRET not in proc.log() and BOT_TOKEN not in proc.log()


async def fire(receiver: ReceiverProcess, group: str, *alerts: dict[str, Any]) -> int:
    payload = am_payload(group, list(alerts))
    async with aiohttp.ClientSession() as s:
        status, doc = await post_webhook(
            s, receiver.url, payload, {"Authorization": f"Bearer {ADMIN}"}
        )
    assert status == 200, doc
    return await receiver.incident_id(group, ADMIN)


def buttons(message: dict[str, Any]) -> list[str]:
    """The action ids of the message's buttons."""
    return [
        element["action_id"]
        for block in message.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
    ]


async def audit(receiver: ReceiverProcess) -> list[dict[str, Any]]:
    status, doc = await receiver.api("GET", "/api/v1/audit", ADMIN)
    assert status == 200, doc
    entries: list[dict[str, Any]] = doc["audit"]
    return entries


async def test_first_post_then_updates_in_place_and_thread_replies(
    receiver: ReceiverProcess, slack: SlackSink
) -> None:
    incident = await fire(receiver, "db", am_alert("a1"))
    await wait_for(lambda: len(slack.calls("chat.postMessage")) == 1, 30, what="first post")
    [first] = slack.calls("chat.postMessage")
    assert first["channel"] == "C0123" and "thread_ts" not in first
    assert buttons(first) == ["tocsin_ack", "tocsin_resolve"]
    assert all(b["value"] == str(incident) for b in first["blocks"][-1]["elements"])
    [(where, ts)] = list(slack.posted)
    # A second alert joins the incident: the message is rewritten, the change is threaded.
    await fire(receiver, "db", am_alert("a1"), am_alert("a2"))
    await wait_for(lambda: len(slack.calls("chat.update")) == 1, 30, what="chat.update")
    await wait_for(lambda: len(slack.calls("chat.postMessage")) == 2, 30, what="thread reply")
    [update] = slack.calls("chat.update")
    assert (update["channel"], update["ts"]) == (where, ts)
    assert update["text"].startswith("[FIRING:2]")
    reply = slack.calls("chat.postMessage")[1]
    assert reply["thread_ts"] == ts and reply["channel"] == where
    # An ack through the API: the same message shows it (only Resolve left), once.
    status, doc = await receiver.api("POST", f"/api/v1/incidents/{incident}/ack", ADMIN, {})
    assert status == 200, doc
    await wait_for(lambda: len(slack.calls("chat.update")) == 2, 30, what="ack update")
    ack_update = slack.calls("chat.update")[1]
    assert (ack_update["channel"], ack_update["ts"]) == (where, ts)
    assert ack_update["text"].startswith("[ACKNOWLEDGED by admin]")
    assert buttons(ack_update) == ["tocsin_resolve"]
    # Resolution: the same message again, without buttons; still one top-level post.
    status, doc = await receiver.api("POST", f"/api/v1/incidents/{incident}/resolve", ADMIN, {})
    assert status == 200, doc
    await wait_for(lambda: len(slack.calls("chat.update")) == 3, 30, what="resolve update")
    resolved = slack.calls("chat.update")[2]
    assert resolved["ts"] == ts and resolved["text"].startswith("[RESOLVED")
    assert buttons(resolved) == []
    await wait_for(lambda: len(slack.calls("chat.postMessage")) == 4, 30, what="replies")
    posts = slack.calls("chat.postMessage")
    assert [p.get("thread_ts") for p in posts] == [None, ts, ts, ts]
    assert "Acknowledged" in json.dumps(posts[2])


async def test_an_escalation_step_updates_the_message_and_replies_in_its_thread(
    receiver: ReceiverProcess, slack: SlackSink
) -> None:
    await fire(receiver, "esc", am_alert("e1"))
    await wait_for(lambda: len(slack.calls("chat.update")) == 1, 30, what="second step")
    await wait_for(lambda: len(slack.calls("chat.postMessage")) == 2, 30, what="thread reply")
    [first, reply] = slack.calls("chat.postMessage")
    [update] = slack.calls("chat.update")
    [(where, ts)] = [k for k, m in slack.posted.items() if "thread_ts" not in m]
    assert "thread_ts" not in first and (update["channel"], update["ts"]) == (where, ts)
    assert update["text"].startswith("[ESCALATION") and reply["thread_ts"] == ts
    assert buttons(update) == ["tocsin_ack", "tocsin_resolve"]


async def test_signed_click_acks_and_audits_the_slack_user(
    receiver: ReceiverProcess, slack: SlackSink
) -> None:
    incident = await fire(receiver, "web", am_alert("w1"))
    await wait_for(lambda: len(slack.calls("chat.postMessage")) == 1, 30, what="first post")
    body, headers = signed(SIGNING_SECRET, button_payload("tocsin_ack", incident, "alice"))
    started = time.monotonic()
    status, doc = await post_interaction(receiver.url, body, headers)
    assert status == 200, doc
    assert time.monotonic() - started < 3, "Slack gives an interaction 3 s"
    assert doc == {"ok": True, "action": "ack", "incident": incident}
    status, inc = await receiver.api("GET", f"/api/v1/incidents/{incident}", ADMIN)
    assert inc["state"] == "acknowledged" and inc["acked_by"] == "slack:alice"
    [entry] = [e for e in await audit(receiver) if e["action"] == "ack"]
    assert entry["actor"] == "slack:alice" and entry["detail"]["channel"] == "ops-slack"
    # The message is updated in place to say so (the announcement), not posted anew.
    await wait_for(lambda: len(slack.calls("chat.update")) == 1, 30, what="ack update")
    assert slack.calls("chat.update")[0]["text"].startswith("[ACKNOWLEDGED by slack:alice]")
    # A second click on Ack: the incident is no longer firing.
    body, headers = signed(SIGNING_SECRET, button_payload("tocsin_ack", incident, "bob"))
    status, doc = await post_interaction(receiver.url, body, headers)
    assert status == 409 and doc["field"] == "state", doc
    body, headers = signed(SIGNING_SECRET, button_payload("tocsin_resolve", incident, "bob"))
    status, doc = await post_interaction(receiver.url, body, headers)
    assert status == 200 and doc["action"] == "resolve", doc
    status, inc = await receiver.api("GET", f"/api/v1/incidents/{incident}", ADMIN)
    assert inc["state"] == "resolved"


async def test_forged_and_stale_clicks_are_401_and_change_nothing(
    receiver: ReceiverProcess, slack: SlackSink
) -> None:
    incident = await fire(receiver, "forged", am_alert("f1"))
    payload = button_payload("tocsin_ack", incident, "mallory")
    # Signed with another secret.
    body, headers = signed("not-the-signing-secret-at-all", payload)
    status, doc = await post_interaction(receiver.url, body, headers)
    assert status == 401 and doc["field"] == "X-Slack-Signature", doc
    # Correctly signed, but six minutes ago (a replay).
    body, headers = signed(SIGNING_SECRET, payload, at=time.time() - 360)
    status, doc = await post_interaction(receiver.url, body, headers)
    assert status == 401 and doc["field"] == "X-Slack-Request-Timestamp", doc
    # A valid signature whose body was altered afterwards.
    body, headers = signed(SIGNING_SECRET, payload)
    status, doc = await post_interaction(receiver.url, body + b"x", headers)
    assert status == 401, doc
    # No signature headers at all.
    status, doc = await post_interaction(receiver.url, body, {})
    assert status == 401, doc
    status, inc = await receiver.api("GET", f"/api/v1/incidents/{incident}", ADMIN)
    assert inc["state"] == "firing" and inc["acked_by"] is None
    assert [e for e in await audit(receiver) if e["action"] == "ack"] == []
    assert SIGNING_SECRET not in json.dumps(doc)


async def test_signed_but_malformed_payloads_are_400_naming_the_field(
    receiver: ReceiverProcess,
) -> None:
    incident = await fire(receiver, "bad", am_alert("b1"))
    cases = [
        ({**button_payload("tocsin_ack", incident), "type": "view_submission"}, "payload.type"),
        (button_payload("tocsin_dance", incident), "payload.actions[0].action_id"),
        ({**button_payload("tocsin_ack", incident), "user": None}, "payload.user"),
    ]
    for payload, field in cases:
        body, headers = signed(SIGNING_SECRET, payload)
        status, doc = await post_interaction(receiver.url, body, headers)
        assert status == 400 and doc["field"] == field, (field, doc)
    broken = button_payload("tocsin_ack", incident)
    broken["actions"][0]["value"] = "1; DROP TABLE incidents"
    body, headers = signed(SIGNING_SECRET, broken)
    status, doc = await post_interaction(receiver.url, body, headers)
    assert status == 400 and doc["field"] == "payload.actions[0].value", doc
    body, headers = signed(SIGNING_SECRET, button_payload("tocsin_ack", 999999))
    status, doc = await post_interaction(receiver.url, body, headers)
    assert status == 404 and doc["field"] == "id", doc


def test_check_config_names_signing_secret_and_announce_acks_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "channels:\n"
        "  - {name: s, type: slack, webhook_url: 'https://hooks.example/x',"
        " signing_secret: 'shh-signing'}\n"
        "routes: [{channels: [s], announce_acks: sometimes}]\n"
    )
    out = run_module(
        "receiver",
        "check-config",
        str(bad),
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 3, out.stderr
    assert "channels[0].signing_secret: buttons need a bot token (token)" in out.stderr
    assert "routes[0].announce_acks:" in out.stderr
    assert "shh-signing" not in out.stderr + out.stdout and "Traceback" not in out.stderr


async def test_forged_clicks_throttle_their_address_only(
    receiver: ReceiverProcess, slack: SlackSink
) -> None:
    incident = await fire(receiver, "throttled", am_alert("t1"))
    good = button_payload("tocsin_ack", incident, "alice")
    url = receiver.url + "/api/v1/slack/interactions"

    async def click(address: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any, str]:
        connector = aiohttp.TCPConnector(local_addr=(address, 0))
        async with (
            aiohttp.ClientSession(connector=connector) as s,
            s.post(url, data=body, headers=headers) as r,
        ):
            return r.status, await r.json(content_type=None), r.headers.get("Retry-After", "")

    # Unsigned requests guess nothing and are not counted.
    for _ in range(12):
        assert (await click("127.0.0.1", b"payload=x", {}))[0] == 401
    for _ in range(10):
        body, headers = signed("a-wrong-signing-secret-guess", good)
        status, doc, _ = await click("127.0.0.1", body, headers)
        assert status == 401 and doc["field"] == "X-Slack-Signature", doc
    # The address is blocked now: even a correctly signed click waits, so a right guess
    # does not stand out from the wrong ones.
    body, headers = signed(SIGNING_SECRET, good)
    status, doc, retry = await click("127.0.0.1", body, headers)
    assert status == 429 and doc["field"] == "X-Slack-Signature", doc
    assert 1 <= int(retry) <= 60
    # One throttle per address: its API calls wait too.
    status, _ = await receiver.api("GET", f"/api/v1/incidents/{incident}", ADMIN)
    assert status == 429
    # Another address is served as always; the blocked click changed nothing.
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    auth = {"Authorization": f"Bearer {ADMIN}"}
    async with (
        aiohttp.ClientSession(connector=connector) as s,
        s.get(f"{receiver.url}/api/v1/incidents/{incident}", headers=auth) as r,
    ):
        assert r.status == 200 and (await r.json())["acked_by"] is None
    status, doc, _ = await click("127.0.0.2", body, headers)
    assert status == 200 and doc["action"] == "ack", doc
    await wait_for(lambda: "slack_signatures_throttled" in receiver.log(), 10, what="the log")
    assert receiver.log().count("slack_signatures_throttled") == 1
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with (
        aiohttp.ClientSession(connector=connector) as s,
        s.get(receiver.url + "/metrics") as r,
    ):
        metrics = parse_series(await r.text())
    assert selected(metrics, "tocsin_receiver_auth_throttled_addresses_total") == 1
