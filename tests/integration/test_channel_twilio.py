"""Twilio SMS through the `twilio` library's async client against a local Messages API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from receiver.channels.twilio import TwilioChannel, TwilioConfig
from receiver.templates import TemplateRenderer
from servicekit.values import Secret
from tests.procs import free_port
from tests.sinks.base import Reply
from tests.sinks.notifications import huge_incident, notification
from tests.sinks.twilio import TwilioSink, twilio_error

SID = "AC" + "1" * 32
TOKEN = "twilio-auth-token-secret-42"


@pytest.fixture
async def sink() -> AsyncIterator[TwilioSink]:
    async with TwilioSink(SID, TOKEN) as s:
        yield s  # type: ignore[misc]


def make_channel(
    sink: TwilioSink, token: str = TOKEN, to: list[str] | None = None
) -> TwilioChannel:
    config = TwilioConfig(
        account_sid=SID,
        auth_token=Secret(token),
        to=to or ["+15550000001", "+15550000002"],
        from_number="+15559990000",
        base_url=sink.url,
    )
    return TwilioChannel("sms", config, TemplateRenderer())


async def test_one_message_per_recipient_exact_form(sink: TwilioSink) -> None:
    channel = make_channel(sink)
    result = await channel.send(notification())
    await channel.close()
    assert result.ok, result
    assert result.response == f"SM{1:032x} SM{2:032x}"
    assert [r.path for r in sink.requests] == [f"/2010-04-01/Accounts/{SID}/Messages.json"] * 2
    body = (
        "[FIRING:2] HostDiskFull (critical)\n"
        "- HostDiskFull db1:9100: Disk /var on db1:9100 is 97% full\n"
        "- HostDiskFull db2:9100: Disk /var on db2:9100 is 95% full"
    )
    assert sink.messages == [
        {"To": "+15550000001", "From": "+15559990000", "Body": body},
        {"To": "+15550000002", "From": "+15559990000", "Body": body},
    ]


async def test_body_fits_1600_with_more(sink: TwilioSink) -> None:
    channel = make_channel(sink, to=["+15550000001"])
    result = await channel.send(notification(incident=huge_incident(500, 10_000)))
    await channel.close()
    assert result.ok, result
    body = sink.messages[0]["Body"]
    assert len(body) <= 1600
    assert body.endswith("more") and "+4" in body.splitlines()[-1]


async def test_retry_only_goes_to_recipients_not_reached(sink: TwilioSink) -> None:
    channel = make_channel(sink)
    sink.script(
        Reply(201, {"sid": "SMfirst", "status": "queued"}),
        twilio_error(429, 20429, "Too Many Requests"),
    )
    n = notification()
    first = await channel.send(n)
    assert not first.ok and first.retry and first.status == "429"
    second = await channel.send(n)
    await channel.close()
    assert second.ok
    assert [r.form["To"][0] for r in sink.requests] == [
        "+15550000001",
        "+15550000002",
        "+15550000002",
    ]


async def test_error_codes_classified(sink: TwilioSink) -> None:
    cases = [
        (twilio_error(500, 20500, "Internal Server Error"), True),
        (twilio_error(503, 20503, "Service Unavailable"), True),
        (twilio_error(400, 21211, "Invalid 'To' Phone Number"), False),
        (twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"), False),
        (twilio_error(400, 21614, "'To' number is not a valid mobile number"), False),
    ]
    for reply, retry in cases:
        sink.script(reply)
        channel = make_channel(sink, to=["+15550000001"])
        result = await channel.send(notification(notification_id=id(reply)))
        await channel.close()
        assert not result.ok and result.retry is retry, (reply.body, result)


async def test_bad_credentials_permanent_and_secret_free(sink: TwilioSink) -> None:
    channel = make_channel(sink, token="wrong-token-value-99")
    result = await channel.send(notification())
    await channel.close()
    assert not result.ok and not result.retry
    assert "20003" in (result.error or "") and "authentication failed" in (result.error or "")
    assert "wrong-token-value-99" not in (result.error or "")


async def test_unreachable_is_retryable() -> None:
    config = TwilioConfig(
        account_sid=SID,
        auth_token=Secret(TOKEN),
        to=["+15550000001"],
        from_number="+15559990000",
        base_url=f"http://127.0.0.1:{free_port()}",
    )
    channel = TwilioChannel("sms-down", config, TemplateRenderer())
    result = await channel.send(notification())
    await channel.close()
    assert not result.ok and result.retry
    assert TOKEN not in (result.error or "")


def test_config_validation() -> None:
    config = TwilioConfig(account_sid="XX", auth_token=Secret("t"), to=["5551234"])
    assert [k for k, _ in config.validate()] == ["account_sid", "to[0]", ""]
