"""Slack bot and Discord channels editing their one message per incident, through the real
slack_sdk and aiohttp against local servers that speak the providers' APIs: the buttons a
message carries by state, and what happens when the stored message is gone."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from receiver.channels.discord import DiscordChannel, DiscordConfig
from receiver.channels.slack import SlackChannel, SlackConfig
from receiver.model.notification import Notification, NotificationKind
from receiver.templates import TemplateRenderer
from servicekit.values import Secret
from tests.sinks.base import Reply
from tests.sinks.discord import DiscordSink
from tests.sinks.notifications import notification
from tests.sinks.slack import SlackSink

TOKEN = "xoxb-edits-token"


def bot(sink: SlackSink, signing_secret: str | None = "signing-secret-for-edits") -> SlackChannel:
    config = SlackConfig(
        token=Secret(TOKEN),
        channel="C0999",
        base_url=f"{sink.url}/api/",
        signing_secret=Secret(signing_secret) if signing_secret else None,
    )
    return SlackChannel("bot", config, TemplateRenderer())


def buttons(message: dict[str, Any]) -> list[str]:
    return [
        e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]


def with_state(state: str, kind: NotificationKind = "firing") -> Notification:
    n = notification(kind=kind)
    return replace(n, incident={**n.incident, "state": state})


async def test_buttons_follow_the_incident_state_and_need_a_signing_secret() -> None:
    sink = SlackSink(token=TOKEN)
    async with sink:
        channel = bot(sink)
        assert buttons(channel.message(with_state("firing"))) == ["tocsin_ack", "tocsin_resolve"]
        assert buttons(channel.message(with_state("acknowledged", "acknowledged"))) == [
            "tocsin_resolve"
        ]
        assert buttons(channel.message(with_state("resolved", "resolved"))) == []
        # Without the app's signing secret nobody could receive the click: no buttons.
        assert buttons(bot(sink, None).message(with_state("firing"))) == []
        webhook = SlackChannel(
            "hook",
            SlackConfig(webhook_url=Secret(f"{sink.url}/services/T/B/x")),
            TemplateRenderer(),
        )
        assert not webhook.keeps_message and channel.keeps_message


async def test_slack_first_post_returns_a_reference_and_a_lost_message_is_posted_again() -> None:
    sink = SlackSink(token=TOKEN)
    async with sink:
        channel = bot(sink)
        first = await channel.send(with_state("firing"))
        assert first.ok and first.message_ref is not None
        ref = json.loads(first.message_ref)
        assert (ref["channel"], ref["ts"]) in sink.posted
        # Edited in place: chat.update on the reference, then a reply in its thread.
        again = await channel.send(
            replace(with_state("acknowledged", "acknowledged"), message_ref=first.message_ref)
        )
        assert again.ok and again.message_ref is None
        [update] = sink.calls("chat.update")
        assert (update["channel"], update["ts"]) == (ref["channel"], ref["ts"])
        assert sink.calls("chat.postMessage")[-1]["thread_ts"] == ref["ts"]
        # A reference to a message Slack no longer has: posted anew, with a new reference.
        gone = json.dumps({"channel": "C0999", "ts": "1600000000.000001"})
        fresh = await channel.send(replace(with_state("firing"), message_ref=gone))
        assert fresh.ok and fresh.message_ref not in (None, gone, first.message_ref)
        assert "thread_ts" not in sink.calls("chat.postMessage")[-1]
        # A failed edit is retried as a whole (the thread reply is never sent alone).
        sink.script(Reply(200, {"ok": False, "error": "ratelimited"}, {"Retry-After": "3"}))
        retry = await channel.send(replace(with_state("firing"), message_ref=first.message_ref))
        assert not retry.ok and retry.retry and retry.retry_after == 3.0
        assert "chat.update failed" in (retry.error or "")


async def test_discord_edits_in_place_and_posts_again_when_the_message_is_gone() -> None:
    sink = DiscordSink()
    async with sink:
        config = DiscordConfig(
            webhook_url=Secret(f"{sink.url}/api/webhooks/5/discordtoken"), username="tocsin"
        )
        channel = DiscordChannel("chat", config, TemplateRenderer())
        try:
            await discord_round_trip(channel, sink)
        finally:
            await channel.close()


async def discord_round_trip(channel: DiscordChannel, sink: DiscordSink) -> None:
    first = await channel.send(with_state("firing"))
    assert first.ok and first.message_ref == "1"
    assert sink.requests[0].query == {"wait": "true"}
    edited = await channel.send(
        replace(with_state("acknowledged", "acknowledged"), message_ref="1")
    )
    assert edited.ok and edited.message_ref == "1"
    [(message_id, body)] = sink.edits()
    assert message_id == "1" and body["embeds"][0]["title"].startswith("[ACKNOWLEDGED")
    # An edit cannot rename the webhook; the name is sent with new messages only.
    assert "username" not in body and sink.requests[0].json["username"] == "tocsin"
    # A message Discord no longer has (404 Unknown Message): posted anew.
    fresh = await channel.send(replace(with_state("resolved", "resolved"), message_ref="42"))
    assert fresh.ok and fresh.message_ref in sink.posted and fresh.message_ref != "1"
    assert [r.method for r in sink.requests] == ["POST", "PATCH", "PATCH", "POST"]
