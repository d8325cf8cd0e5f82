"""Discord webhooks against a local server enforcing Discord's documented limits."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from receiver.channels.discord import DiscordChannel, DiscordConfig
from receiver.templates import TemplateRenderer
from servicekit.values import Secret
from tests.sinks.base import Reply
from tests.sinks.discord import DiscordSink, rate_limited
from tests.sinks.notifications import huge_incident, notification

HOOK_TOKEN = "dIsCoRdWeBhOoKtOkEn-secret"


@pytest.fixture
async def sink() -> AsyncIterator[DiscordSink]:
    async with DiscordSink() as s:
        yield s  # type: ignore[misc]


def make_channel(sink: DiscordSink) -> DiscordChannel:
    url = f"{sink.url}/api/webhooks/123456/{HOOK_TOKEN}"
    return DiscordChannel(
        "discord", DiscordConfig(webhook_url=Secret(url), username="tocsin"), TemplateRenderer()
    )


async def test_exact_webhook_body(sink: DiscordSink) -> None:
    channel = make_channel(sink)
    result = await channel.send(notification("script_annotation.json"))
    await channel.close()
    assert result.ok and result.response == "message 1"
    [request] = sink.requests
    assert request.query == {"wait": "true"}
    silence = (
        "http://alertmanager.example:9093/#/silences/new?filter=%7Balertname%3D%22AppErrors%22%2C"
        "%20instance%3D%22app1%3A8080%22%2C%20severity%3D%22warning%22%7D"
    )
    assert request.json == {
        "embeds": [
            {
                "title": "[FIRING:1] AppErrors (warning)",
                "description": "**AppErrors** `warning` — firing: Errors <b\\>rising</b\\> & more\n"
                "<script\\>alert('x')</script\\> error rate is 5%\n"
                "[Source](http://prometheus.example:9090/graph?g0.expr=errors) · "
                f"[Silence]({silence})",
                "color": 0xF9A825,
                "footer": {"text": "incident 1 · corr-0001"},
                "url": "http://alertmanager.example:9093",
            }
        ],
        "allowed_mentions": {"parse": []},
        "username": "tocsin",
    }


async def test_huge_incident_accepted_by_limit_checking_sink(sink: DiscordSink) -> None:
    channel = make_channel(sink)
    result = await channel.send(notification(incident=huge_incident(500, 10_000)))
    await channel.close()
    assert result.ok, result
    assert "more alerts not shown" in sink.requests[0].json["embeds"][0]["description"]


async def test_rate_limit_uses_json_retry_after(sink: DiscordSink) -> None:
    sink.script(rate_limited(2.5))
    channel = make_channel(sink)
    result = await channel.send(notification())
    await channel.close()
    assert not result.ok and result.retry and result.retry_after == 2.5


async def test_5xx_retryable_4xx_permanent(sink: DiscordSink) -> None:
    sink.script(
        Reply(502, "bad gateway"), Reply(404, {"code": 10015, "message": "Unknown Webhook"})
    )
    channel = make_channel(sink)
    first = await channel.send(notification())
    second = await channel.send(notification())
    await channel.close()
    assert not first.ok and first.retry
    assert not second.ok and not second.retry and "Unknown Webhook" in (second.error or "")
    assert HOOK_TOKEN not in (second.error or "")
