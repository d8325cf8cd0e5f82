"""Slack through slack_sdk's real async clients against a local Slack-speaking server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from receiver.channels.slack import SlackChannel, SlackConfig
from receiver.metrics import REGISTRY
from receiver.templates import TemplateRenderer
from servicekit.values import Secret
from tests.procs import free_port
from tests.sinks.base import Reply
from tests.sinks.notifications import notification
from tests.sinks.slack import SlackSink

WEBHOOK_SECRET = "XyZsecretWebhookPart123"
TOKEN = "xoxb-1234-secret-token"

SILENCE = (
    "http://alertmanager.example:9093/#/silences/new?filter=%7Balertname%3D%22AppErrors%22%2C"
    "%20instance%3D%22app1%3A8080%22%2C%20severity%3D%22warning%22%7D"
)
EXPECTED_FIRING = {
    "text": "[FIRING:1] AppErrors (warning)",
    "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "[FIRING:1] AppErrors (warning)"}}
    ],
    "attachments": [
        {
            "color": "#f9a825",
            "fallback": "[FIRING:1] AppErrors (warning)",
            "blocks": [
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": "*AppErrors* `warning` — firing: Errors &lt;b&gt;rising&lt;/b&gt;"
                        " &amp; more\n&lt;script&gt;alert('x')&lt;/script&gt; error rate is 5%\n"
                        "<http://prometheus.example:9090/graph?g0.expr=errors|Source> · "
                        f"<{SILENCE}|Silence>",
                    },
                },
                {
                    "type": "context",
                    "elements": [
                        {
                            "type": "mrkdwn",
                            "text": "<http://alertmanager.example:9093|Alertmanager> · "
                            "<http://alertmanager.example:9093/#/silences/new?filter="
                            "%7Balertname%3D%22AppErrors%22%7D|Silence all> · "
                            "incident 1 · corr-0001",
                        }
                    ],
                },
            ],
        }
    ],
}


@pytest.fixture
async def sink() -> AsyncIterator[SlackSink]:
    async with SlackSink(token=TOKEN) as s:
        yield s  # type: ignore[misc]


def webhook_channel(sink: SlackSink) -> SlackChannel:
    url = f"{sink.url}/services/T000/B000/{WEBHOOK_SECRET}"
    return SlackChannel("ops-slack", SlackConfig(webhook_url=Secret(url)), TemplateRenderer())


def bot_channel(sink: SlackSink) -> SlackChannel:
    config = SlackConfig(token=Secret(TOKEN), channel="C0123", base_url=f"{sink.url}/api/")
    return SlackChannel("ops-slack-bot", config, TemplateRenderer())


async def test_webhook_posts_exact_message(sink: SlackSink) -> None:
    channel = webhook_channel(sink)
    await channel.start()
    result = await channel.send(notification("script_annotation.json"))
    assert result.ok, result
    [request] = sink.requests
    assert request.path == f"/services/T000/B000/{WEBHOOK_SECRET}"
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.json == EXPECTED_FIRING


async def test_bot_token_chat_post_message(sink: SlackSink) -> None:
    channel = bot_channel(sink)
    await channel.start()
    result = await channel.send(notification("script_annotation.json"))
    assert result.ok and result.response == "ts=1700000000.000001"
    [request] = sink.requests
    assert request.path == "/api/chat.postMessage"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.json == {"channel": "C0123", **EXPECTED_FIRING}


async def test_resolved_message_is_green_and_lists_only_resolved(sink: SlackSink) -> None:
    channel = webhook_channel(sink)
    result = await channel.send(notification(kind="resolved"))
    assert result.ok
    message = sink.messages()[0]
    assert message["attachments"][0]["color"] == "#2e7d32"
    body = str(message)
    assert "web1:9100" in body and "db1:9100" not in body


@pytest.mark.parametrize("make", [webhook_channel, bot_channel])
async def test_rate_limit_returns_retry_after(sink: SlackSink, make: object) -> None:
    sink.script(Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"}))
    result = await make(sink).send(notification())  # type: ignore[operator]
    assert not result.ok and result.retry
    assert result.retry_after == 7.0
    assert result.status == "429"


@pytest.mark.parametrize("make", [webhook_channel, bot_channel])
async def test_server_error_is_retryable(sink: SlackSink, make: object) -> None:
    sink.script(Reply(503, "service_unavailable"))
    result = await make(sink).send(notification())  # type: ignore[operator]
    assert not result.ok and result.retry and result.status == "503"


async def test_webhook_permanent_errors(sink: SlackSink) -> None:
    for status, body in [(404, "no_service"), (403, "action_prohibited"), (400, "invalid_payload")]:
        sink.script(Reply(status, body))
        result = await webhook_channel(sink).send(notification())
        assert not result.ok and not result.retry, (status, result)
        assert body in (result.error or "")
        assert WEBHOOK_SECRET not in (result.error or "")


async def test_bot_permanent_errors(sink: SlackSink) -> None:
    bad = SlackChannel(
        "bad-token",
        SlackConfig(token=Secret("xoxb-wrong"), channel="C1", base_url=f"{sink.url}/api/"),
        TemplateRenderer(),
    )
    result = await bad.send(notification())
    assert not result.ok and not result.retry
    assert "invalid_auth" in (result.error or "")
    assert "xoxb-wrong" not in (result.error or "")


async def test_unreachable_is_retryable_and_hides_the_webhook_secret() -> None:
    url = f"http://127.0.0.1:{free_port()}/services/T/B/{WEBHOOK_SECRET}"
    channel = SlackChannel("down", SlackConfig(webhook_url=Secret(url)), TemplateRenderer())
    result = await channel.send(notification())
    assert not result.ok and result.retry
    assert WEBHOOK_SECRET not in (result.error or "")


def test_config_needs_exactly_one_mode() -> None:
    assert SlackConfig().validate()
    assert SlackConfig(token=Secret("t")).validate() == [
        ("channel", "required with token (a channel ID or #name)")
    ]
    assert SlackConfig(webhook_url=Secret("https://hooks.slack.com/services/x")).validate() == []


async def test_broken_user_template_still_delivers_with_builtin(sink: SlackSink) -> None:
    broken = Path(__file__).resolve().parent.parent / "fixtures" / "templates" / "broken"
    url = f"{sink.url}/services/T000/B000/{WEBHOOK_SECRET}"
    labels = {"channel": "broken-slack", "template": "slack/default.title.txt"}
    before = REGISTRY.get_sample_value("tocsin_receiver_template_errors_total", labels) or 0.0
    channel = SlackChannel(
        "broken-slack", SlackConfig(webhook_url=Secret(url)), TemplateRenderer(broken)
    )
    result = await channel.send(notification("script_annotation.json"))
    assert result.ok, result
    assert sink.requests[0].json == EXPECTED_FIRING
    after = REGISTRY.get_sample_value("tocsin_receiver_template_errors_total", labels)
    assert after == before + 1
