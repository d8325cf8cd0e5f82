"""Twilio inbound SMS through a real receiver process, signed by the twilio library's own
RequestValidator, with the SMS itself sent through the twilio client to a local API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import aiohttp
import pytest
from twilio.request_validator import RequestValidator

from tests.integration.receiver_harness import (
    ReceiverProcess,
    am_alert,
    am_payload,
    audit_entries,
    incident_state,
    post_webhook,
    wait_for,
)
from tests.sinks.twilio import TwilioSink, twilio_error

pytestmark = pytest.mark.integration

SID = "AC" + "3" * 32
TOKEN = "twilio-auth-token-for-replies"
PHONE = "+15550000001"
OTHER = "+15550000002"
STRANGER = "+15557777777"
NEWCOMER = "+15550000003"


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioSink]:
    async with TwilioSink(SID, TOKEN) as s:
        yield s  # type: ignore[misc]


def _config(twilio: TwilioSink, to: list[str]) -> dict[str, Any]:
    return {
        "channels": [
            {
                "name": "sms",
                "type": "twilio",
                "account_sid": SID,
                "auth_token": TOKEN,
                "to": to,
                "from_number": "+15559990000",
                "base_url": twilio.url,
            },
        ],
        "default_route": {"channels": ["sms"]},
        "twilio_inbound": {"channel": "sms"},
    }


@pytest.fixture
async def receiver(tmp_path: Path, twilio: TwilioSink) -> AsyncIterator[ReceiverProcess]:
    proc = await ReceiverProcess(tmp_path, _config(twilio, [PHONE, OTHER])).start()
    yield proc
    proc.stop()


async def _incident(receiver: ReceiverProcess, twilio: TwilioSink, group: str) -> int:
    async with aiohttp.ClientSession() as s:
        status, _ = await post_webhook(s, receiver.url, am_payload(group, [am_alert(group)]))
    assert status == 200
    incident = await receiver.incident_id(group)

    async def delivered() -> bool:
        _, doc = await receiver.api("GET", f"/api/v1/incidents/{incident}")
        return any(n["state"] in ("delivered", "dead") for n in doc["notifications"])

    await wait_for(delivered, 30, what=f"SMS for incident {incident}")
    return incident


async def _sms(
    receiver: ReceiverProcess, sender: str, text: str, signature: str | None = None
) -> tuple[int, str]:
    url = receiver.url + "/api/v1/sms/twilio"
    form = {
        "MessageSid": "SM" + "9" * 32, "AccountSid": SID, "From": sender,
        "To": "+15559990000", "Body": text, "NumMedia": "0",
    }  # fmt: skip
    sig = RequestValidator(TOKEN).compute_signature(url, form) if signature is None else signature
    async with (
        aiohttp.ClientSession() as s,
        s.post(url, data=form, headers={"X-Twilio-Signature": sig}) as r,
    ):
        return r.status, await r.text()


def _reply(twiml: str) -> str | None:
    root = ElementTree.fromstring(twiml)
    assert root.tag == "Response"
    message = root.find("Message")
    return message.text if message is not None else None


async def test_signed_reply_acks_then_resolves_and_is_answered(
    receiver: ReceiverProcess, twilio: TwilioSink
) -> None:
    incident = await _incident(receiver, twilio, "g-sms")
    assert re.search(r"Reply ACK [A-Z]{3} or RESOLVE [A-Z]{3}", twilio.messages[0]["Body"])
    status, twiml = await _sms(receiver, PHONE, f"ack {incident}")
    assert status == 200 and twiml.startswith("<?xml"), twiml
    assert _reply(twiml) == f"tocsin: incident {incident} acknowledged by {PHONE}."
    assert await incident_state(receiver, incident) == "acknowledged"
    status, twiml = await _sms(receiver, OTHER, f"  RESOLVE #{incident} ")
    assert status == 200 and _reply(twiml) == f"tocsin: incident {incident} resolved by {OTHER}."
    assert await incident_state(receiver, incident) == "resolved"
    entries = [a for a in await audit_entries(receiver) if a["target"] == f"incident/{incident}"]
    assert [(a["action"], a["actor"], a["role"], a["detail"]["channel"]) for a in entries] == [
        ("resolve", OTHER, "sms", "sms"),
        ("ack", PHONE, "sms", "sms"),
    ]
    # Acting twice is answered with why, and changes nothing.
    status, twiml = await _sms(receiver, PHONE, f"ACK {incident}")
    assert status == 200 and "is resolved, not firing" in (_reply(twiml) or ""), twiml


def _code(body: str) -> str:
    found = re.search(r"Reply ACK ([A-Z]+) or RESOLVE ([A-Z]+)", body)
    assert found is not None and found.group(1) == found.group(2), body
    return found.group(1)


async def test_reply_codes_name_one_open_incident_each(
    receiver: ReceiverProcess, twilio: TwilioSink
) -> None:
    incidents = [await _incident(receiver, twilio, f"g-code-{i}") for i in range(3)]
    # Each incident's SMS (to both numbers) carries that incident's code.
    bodies = [m["Body"] for m in twilio.messages]
    codes = [_code(body) for body in bodies[::2]]
    assert [_code(body) for body in bodies[1::2]] == codes
    assert len(set(codes)) == 3 and all(len(c) == 3 for c in codes), codes
    second = incidents[1]
    status, twiml = await _sms(receiver, OTHER, f"ack {codes[1].lower()}")
    assert status == 200 and _reply(twiml) == f"tocsin: incident {second} acknowledged by {OTHER}."
    assert [await incident_state(receiver, i) for i in incidents] == [
        "firing",
        "acknowledged",
        "firing",
    ]
    # The acknowledged announcement offers the same code for resolving.
    await wait_for(lambda: _has(twilio, f"Reply RESOLVE {codes[1]}"), 30, what="ack SMS")
    status, twiml = await _sms(receiver, PHONE, f"RESOLVE {codes[1]}")
    assert _reply(twiml) == f"tocsin: incident {second} resolved by {PHONE}.", twiml
    # Resolved, its code names no open incident any more (and may be given out again).
    status, twiml = await _sms(receiver, PHONE, f"ACK {codes[1]}")
    assert _reply(twiml) == f"tocsin: no open incident has the code {codes[1]}.", twiml
    entries = [a for a in await audit_entries(receiver) if a["target"] == f"incident/{second}"]
    assert [(a["action"], a["actor"], a["detail"]["channel"]) for a in entries] == [
        ("resolve", PHONE, "sms"),
        ("ack", OTHER, "sms"),
    ]
    # ACK <id> still works next to the codes.
    status, twiml = await _sms(receiver, PHONE, f"ACK {incidents[2]}")
    assert _reply(twiml) == f"tocsin: incident {incidents[2]} acknowledged by {PHONE}.", twiml


async def _has(twilio: TwilioSink, text: str) -> bool:
    return any(text in m["Body"] for m in twilio.messages)


async def test_bad_signature_unknown_sender_and_other_text(
    receiver: ReceiverProcess, twilio: TwilioSink
) -> None:
    incident = await _incident(receiver, twilio, "g-refuse")
    before = await audit_entries(receiver)
    status, body = await _sms(receiver, PHONE, f"ACK {incident}", signature="bm90IGl0")
    assert status == 403 and '"field": "X-Twilio-Signature"' in body, body
    status, body = await _sms(receiver, PHONE, f"ACK {incident}", signature="")
    assert status == 403, body
    # Correctly signed, but from a number the channel never sent to: an empty answer.
    status, twiml = await _sms(receiver, STRANGER, f"ACK {incident}")
    assert status == 200 and _reply(twiml) is None and "<Response" in twiml, twiml
    status, twiml = await _sms(receiver, PHONE, "what is going on?")
    assert status == 200 and "reply ACK <incident>" in (_reply(twiml) or ""), twiml
    status, twiml = await _sms(receiver, PHONE, "ACK 999999")
    assert status == 200 and "was not sent to this number" in (_reply(twiml) or ""), twiml
    assert await incident_state(receiver, incident) == "firing"
    assert await audit_entries(receiver) == before
    assert TOKEN not in receiver.log()


async def test_only_numbers_the_incident_reached_may_act_whatever_to_says_now(
    receiver: ReceiverProcess, twilio: TwilioSink
) -> None:
    old = await _incident(receiver, twilio, "g-before")
    # OTHER leaves the rota and NEWCOMER joins it, after the first incident was sent.
    receiver.stop()
    receiver.reconfigure(_config(twilio, [PHONE, NEWCOMER]))
    await receiver.start()
    new = await _incident(receiver, twilio, "g-after")
    assert [m["To"] for m in twilio.messages] == [PHONE, OTHER, PHONE, NEWCOMER]
    status, twiml = await _sms(receiver, NEWCOMER, f"ACK {old}")
    assert status == 200 and _reply(twiml) == f"tocsin: incident {old} was not sent to this number."
    status, twiml = await _sms(receiver, OTHER, f"ACK {new}")
    assert status == 200 and _reply(twiml) == f"tocsin: incident {new} was not sent to this number."
    assert (
        await incident_state(receiver, old) == "firing"
        and await incident_state(receiver, new) == "firing"
    )
    status, twiml = await _sms(receiver, OTHER, f"ACK {old}")
    assert _reply(twiml) == f"tocsin: incident {old} acknowledged by {OTHER}.", twiml
    status, twiml = await _sms(receiver, NEWCOMER, f"ACK {new}")
    assert _reply(twiml) == f"tocsin: incident {new} acknowledged by {NEWCOMER}.", twiml


async def test_a_failed_delivery_records_the_numbers_it_did_reach(
    receiver: ReceiverProcess, twilio: TwilioSink
) -> None:
    # The first number is refused for good (21211): the notification dead-letters, but
    # OTHER did get the message and may answer it; PHONE never heard of this channel.
    twilio.script(twilio_error(400, 21211, "The 'To' number is not a valid phone number."))
    incident = await _incident(receiver, twilio, "g-partial")
    assert [m["To"] for m in twilio.messages] == [OTHER]
    status, twiml = await _sms(receiver, PHONE, f"ACK {incident}")
    assert status == 200 and _reply(twiml) is None, twiml
    status, twiml = await _sms(receiver, OTHER, f"ACK {incident}")
    assert _reply(twiml) == f"tocsin: incident {incident} acknowledged by {OTHER}.", twiml


async def test_malformed_forms_are_4xx_naming_the_field(receiver: ReceiverProcess) -> None:
    url = receiver.url + "/api/v1/sms/twilio"
    form = "application/x-www-form-urlencoded"
    cases: list[tuple[bytes, str, int, str]] = [
        (b'{"Body": "ACK 1"}', "application/json", 415, "Content-Type"),
        ("&".join(f"f{i}=x" for i in range(65)).encode(), form, 400, "body"),
        (b"Body=ACK \xff", form, 400, "body"),
        (b"Body=" + b"a" * (40 * 1024), form, 413, "body"),
    ]
    async with aiohttp.ClientSession() as s:
        for data, ctype, status, field in cases:
            async with s.post(url, data=data, headers={"Content-Type": ctype}) as r:
                doc = await r.json()
                assert (r.status, doc.get("field")) == (status, field), (data[:40], doc)
    assert "Traceback" not in receiver.log()


async def test_not_configured_is_404_naming_the_key(tmp_path: Path) -> None:
    receiver = await ReceiverProcess(tmp_path).start()
    try:
        status, body = await _sms(receiver, PHONE, "ACK 1")
        assert status == 404 and '"field": "twilio_inbound"' in body, body
    finally:
        receiver.stop()
