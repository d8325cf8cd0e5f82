"""Microsoft Teams workflow webhook with an Adaptive Card, against a local workflow trigger."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from receiver.channels.teams import TeamsChannel, TeamsConfig
from receiver.templates import TemplateRenderer
from servicekit.values import Secret
from tests.procs import free_port
from tests.sinks.base import Reply
from tests.sinks.notifications import huge_incident, notification
from tests.sinks.teams import TeamsSink

SIG = "teamsSigSecretValue0123"


@pytest.fixture
async def sink() -> AsyncIterator[TeamsSink]:
    async with TeamsSink() as s:
        yield s  # type: ignore[misc]


def make_channel(sink: TeamsSink) -> TeamsChannel:
    url = f"{sink.url}/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig={SIG}"
    return TeamsChannel("teams", TeamsConfig(webhook_url=Secret(url)), TemplateRenderer())


async def test_exact_adaptive_card(sink: TeamsSink) -> None:
    channel = make_channel(sink)
    result = await channel.send(notification("script_annotation.json"))
    await channel.close()
    assert result.ok and result.status == "202"
    [request] = sink.requests
    assert request.query["sig"] == SIG
    silence = (
        "http://alertmanager.example:9093/#/silences/new?filter=%7Balertname%3D%22AppErrors%22%7D"
    )
    alert_silence = (
        "http://alertmanager.example:9093/#/silences/new?filter=%7Balertname%3D%22AppErrors%22%2C"
        "%20instance%3D%22app1%3A8080%22%2C%20severity%3D%22warning%22%7D"
    )
    assert request.json == {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "msteams": {"width": "Full"},
                    "body": [
                        {
                            "type": "TextBlock",
                            "text": "[FIRING:1] AppErrors (warning)",
                            "weight": "Bolder",
                            "size": "Medium",
                            "color": "Warning",
                            "wrap": True,
                        },
                        {
                            "type": "TextBlock",
                            "text": "**AppErrors** `warning` — firing: "
                            "Errors <b\\>rising</b\\> & more\n"
                            "<script\\>alert('x')</script\\> error rate is 5%\n"
                            "[Source](http://prometheus.example:9090/graph?g0.expr=errors) · "
                            f"[Silence]({alert_silence})",
                            "wrap": True,
                        },
                        {
                            "type": "TextBlock",
                            "text": "incident 1 · corr-0001",
                            "isSubtle": True,
                            "size": "Small",
                        },
                    ],
                    "actions": [
                        {"type": "Action.OpenUrl", "title": "Silence", "url": silence},
                        {
                            "type": "Action.OpenUrl",
                            "title": "Alertmanager",
                            "url": "http://alertmanager.example:9093",
                        },
                    ],
                },
            }
        ],
    }


async def test_huge_incident_fits_28kb(sink: TeamsSink) -> None:
    channel = make_channel(sink)
    result = await channel.send(notification(incident=huge_incident(500, 10_000)))
    await channel.close()
    assert result.ok, result
    assert len(sink.requests[0].body) <= 28 * 1024
    assert "more alerts not shown" in sink.requests[0].text


async def test_outcomes(sink: TeamsSink) -> None:
    sink.script(
        Reply(429, {"error": {"code": "TooManyRequests"}}, {"Retry-After": "12"}),
        Reply(500, "oops"),
        Reply(400, {"error": {"code": "InvalidRequestContent"}}),
    )
    channel = make_channel(sink)
    limited = await channel.send(notification())
    failed = await channel.send(notification())
    refused = await channel.send(notification())
    await channel.close()
    assert limited.retry and limited.retry_after == 12.0
    assert failed.retry and failed.status == "500"
    assert not refused.ok and not refused.retry and refused.status == "400"


async def test_unreachable_hides_signature() -> None:
    url = f"http://127.0.0.1:{free_port()}/workflows/a/triggers/manual/paths/invoke?sig={SIG}"
    channel = TeamsChannel("teams-down", TeamsConfig(webhook_url=Secret(url)), TemplateRenderer())
    result = await channel.send(notification())
    await channel.close()
    assert not result.ok and result.retry
    assert SIG not in (result.error or "")
