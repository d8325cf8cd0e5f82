"""Acks announced, inside a real receiver process: each channel that was notified of an
incident hears of its acknowledgement exactly once (Slack and Discord by editing their one
message), a route can turn it off, and an announcement queued before a crash is sent after
the restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.integration.receiver_harness import (
    ReceiverProcess,
    Sink,
    am_alert,
    am_payload,
    post_webhook,
    wait_for,
)
from tests.sinks.base import Reply
from tests.sinks.discord import DiscordSink
from tests.sinks.slack import SlackSink

pytestmark = pytest.mark.integration
ADMIN = "admin-token-for-ack-announcements"
BOT_TOKEN = "xoxb-announce-token"
# Long enough that nothing repeats on its own while a test looks for a duplicate.
QUIET = 2.0


def channels(slack: SlackSink, discord: DiscordSink, hook: Sink, other: Sink) -> list[Any]:
    return [
        {
            "name": "slack-bot",
            "type": "slack",
            "token": BOT_TOKEN,
            "channel": "C0456",
            "base_url": f"{slack.url}/api/",
        },
        {"name": "chat", "type": "discord", "webhook_url": f"{discord.url}/api/webhooks/7/tok"},
        {"name": "hook", "type": "webhook", "url": hook.url},
        {"name": "other", "type": "webhook", "url": other.url},
    ]


def config(chans: list[Any], **outbox: str) -> dict[str, Any]:
    return {
        "channels": chans,
        "routes": [
            {"matchers": ['group="elsewhere"'], "channels": ["other"]},
            {"matchers": ['group="muted"'], "channels": ["hook"], "announce_acks": False},
        ],
        "default_route": {"channels": ["slack-bot", "chat", "hook"]},
        "outbox": {"backoff_initial": "100ms", "backoff_max": "1s", **outbox},
        "auth": {"tokens": [{"name": "admin", "roles": ["admin", "ingest"], "token": ADMIN}]},
    }


@pytest.fixture
async def sinks() -> AsyncIterator[tuple[SlackSink, DiscordSink, Sink, Sink]]:
    async with SlackSink(token=BOT_TOKEN) as slack, DiscordSink() as discord:
        hook, other = await Sink().start(), await Sink().start()
        try:
            yield slack, discord, hook, other  # type: ignore[misc]
        finally:
            await hook.stop()
            await other.stop()


async def fire(receiver: ReceiverProcess, group: str) -> int:
    async with aiohttp.ClientSession() as s:
        status, doc = await post_webhook(
            s,
            receiver.url,
            am_payload(group, [am_alert(f"{group}-1")]),
            {"Authorization": f"Bearer {ADMIN}"},
        )
    assert status == 200, doc
    return await receiver.incident_id(group, ADMIN)


async def ack(receiver: ReceiverProcess, incident: int) -> None:
    status, doc = await receiver.api("POST", f"/api/v1/incidents/{incident}/ack", ADMIN, {})
    assert status == 200, doc


def acks_heard(slack: SlackSink, discord: DiscordSink, hook: Sink) -> tuple[int, int, int]:
    """Acknowledgements each channel received: Slack thread replies saying so, Discord
    edits showing it, webhook notifications of kind acknowledged."""
    replies = [
        m
        for m in slack.calls("chat.postMessage")
        if m.get("thread_ts") and m["text"].startswith("[ACKNOWLEDGED")
    ]
    edits = [e for _, e in discord.edits() if e["embeds"][0]["title"].startswith("[ACKNOWLEDGED")]
    return len(replies), len(edits), len(hook.of_kind("acknowledged"))


async def test_each_notified_channel_hears_an_ack_exactly_once(
    tmp_path: Path, sinks: tuple[SlackSink, DiscordSink, Sink, Sink]
) -> None:
    slack, discord, hook, other = sinks
    receiver = await ReceiverProcess(
        tmp_path, config(channels(slack, discord, hook, other))
    ).start()
    try:
        muted = await fire(receiver, "muted")
        await wait_for(lambda: len(hook.of_kind("firing")) == 1, 30, what="muted firing")
        incident = await fire(receiver, "api")
        await wait_for(lambda: len(hook.of_kind("firing")) == 2, 30, what="api firing")
        await wait_for(lambda: len(discord.posted) == 1, 30, what="discord post")
        await wait_for(lambda: len(slack.posted) == 1, 30, what="slack post")
        await ack(receiver, muted)
        await ack(receiver, incident)
        await wait_for(
            lambda: acks_heard(slack, discord, hook) == (1, 1, 1), 30, what="announcements"
        )
        await asyncio.sleep(QUIET)
        assert acks_heard(slack, discord, hook) == (1, 1, 1)
        # Slack and Discord edited their one message; nothing new was posted at top level.
        [(where, ts)] = [k for k in slack.posted if "thread_ts" not in slack.posted[k]]
        [update] = slack.calls("chat.update")
        assert (update["channel"], update["ts"]) == (where, ts)
        assert update["text"].startswith("[ACKNOWLEDGED by admin]")
        [message_id] = list(discord.posted)
        [(edited, body)] = discord.edits()
        assert edited == message_id and "by admin" in body["embeds"][0]["title"]
        assert len([r for r in discord.requests if r.method == "POST"]) == 1
        # The muted route's incident announced nothing; a channel never notified hears nothing.
        assert [r.body["incident"]["id"] for r in hook.of_kind("acknowledged")] == [incident]
        assert other.received == []
    finally:
        receiver.stop()


async def test_an_announcement_queued_before_a_crash_is_sent_after_restart(
    tmp_path: Path, sinks: tuple[SlackSink, DiscordSink, Sink, Sink]
) -> None:
    slack, discord, hook, other = sinks
    # The first try of each announcement fails and the next is seconds away: the receiver
    # is killed in between, with the announcements stored but not delivered.
    receiver = ReceiverProcess(
        tmp_path,
        config(channels(slack, discord, hook, other), backoff_initial="5s", backoff_max="5s"),
    )
    await receiver.start()
    try:
        incident = await fire(receiver, "crash")
        await wait_for(lambda: len(hook.of_kind("firing")) == 1, 30, what="firing")
        await wait_for(lambda: len(discord.posted) == 1, 30, what="discord post")
        await wait_for(lambda: len(slack.posted) == 1, 30, what="slack post")
        before = (len(slack.requests), len(discord.requests), len(hook.attempts))
        hook.script.append((503, {}))
        slack.script(Reply(503, {"ok": False, "error": "service_unavailable"}))
        discord.script(Reply(503, {"message": "upstream unavailable"}))
        await ack(receiver, incident)

        def tried() -> bool:
            now = (len(slack.requests), len(discord.requests), len(hook.attempts))
            return all(n == b + 1 for n, b in zip(now, before, strict=True))

        await wait_for(tried, 30, what="the failed first tries")
        receiver.kill()
        assert acks_heard(slack, discord, hook) == (0, 0, 0)
        await receiver.start()
        await wait_for(
            lambda: acks_heard(slack, discord, hook) == (1, 1, 1), 60, what="after restart"
        )
        await asyncio.sleep(QUIET)
        assert acks_heard(slack, discord, hook) == (1, 1, 1)
        updates = [u for u in slack.calls("chat.update") if u["text"].startswith("[ACK")]
        [ts] = [k[1] for k in slack.posted if "thread_ts" not in slack.posted[k]]
        assert {u["ts"] for u in updates} == {ts}
    finally:
        receiver.stop()
