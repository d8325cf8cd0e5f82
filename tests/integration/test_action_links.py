"""Signed action links through a real receiver process: the links in delivered messages,
the confirmation page (GET never acts), its CSRF-guarded POST, and every refusal."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from receiver.actionlinks.signing import LinkSigner
from tests.integration.receiver_harness import (
    ReceiverProcess,
    Sink,
    am_alert,
    am_payload,
    audit_entries,
    incident_state,
    post_webhook,
    wait_for,
)
from tests.procs import free_port
from tests.sinks.twilio import TwilioSink

pytestmark = pytest.mark.integration

KEY = "k" * 40
SID = "AC" + "2" * 32
TWILIO_TOKEN = "twilio-auth-token-for-links"
PHONE = "+15550000001"
HTML = {"Accept": "text/html"}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioSink]:
    async with TwilioSink(SID, TWILIO_TOKEN) as s:
        yield s  # type: ignore[misc]


@pytest.fixture
async def hook() -> AsyncIterator[Sink]:
    sink = await Sink().start()
    yield sink
    await sink.stop()


@pytest.fixture
async def receiver(
    tmp_path: Path, twilio: TwilioSink, hook: Sink
) -> AsyncIterator[ReceiverProcess]:
    port = free_port()
    (tmp_path / "link.key").write_text(KEY + "\n")
    config = {
        "web": {"external_url": f"http://127.0.0.1:{port}"},
        "action_links": {"key_file": str(tmp_path / "link.key"), "ttl": "1h"},
        "channels": [
            {"name": "hook", "type": "webhook", "url": hook.url},
            {
                "name": "sms",
                "type": "twilio",
                "account_sid": SID,
                "auth_token": TWILIO_TOKEN,
                "to": [PHONE],
                "from_number": "+15559990000",
                "base_url": twilio.url,
            },
        ],
        "default_route": {"channels": ["hook", "sms"]},
    }
    proc = await ReceiverProcess(tmp_path, config, port=port).start()
    yield proc
    proc.stop()


async def _incident(receiver: ReceiverProcess, group: str) -> int:
    async with aiohttp.ClientSession() as s:
        status, _ = await post_webhook(s, receiver.url, am_payload(group, [am_alert(group)]))
    assert status == 200
    return await receiver.incident_id(group)


async def _links(hook: Sink, incident: int) -> dict[str, str]:
    def found() -> list[dict[str, Any]]:
        return [
            r.body for r in hook.received
            if r.body["kind"] == "firing" and r.body["incident"]["id"] == incident
        ]  # fmt: skip

    await wait_for(lambda: bool(found()), 30, what=f"webhook for incident {incident}")
    return dict(found()[0]["action_links"])


def _token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["t"][0]


def _session() -> aiohttp.ClientSession:
    # The receiver is reached by IP address, where the default jar keeps no cookies.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def _open(s: aiohttp.ClientSession, url: str) -> str:
    async with s.get(url, headers=HTML) as r:
        text = await r.text()
        assert r.status == 200, text
        assert "default-src 'self'" in r.headers["Content-Security-Policy"]
        return text


async def _post(
    s: aiohttp.ClientSession, url: str, form: dict[str, str], html: bool = False
) -> tuple[int, Any]:
    headers = HTML if html else {"Accept": "application/json"}
    async with s.post(url.split("?")[0], data=form, headers=headers) as r:
        return r.status, (await r.text() if html else await r.json(content_type=None))


async def test_sms_link_acks_only_after_its_confirmation_post(
    receiver: ReceiverProcess, twilio: TwilioSink, hook: Sink
) -> None:
    incident = await _incident(receiver, "g-ack")
    await wait_for(lambda: bool(twilio.messages), 30, what="the SMS")
    body = twilio.messages[0]["Body"]
    ack_url = re.search(r"Ack: (\S+)", body)
    assert ack_url is not None, body
    url = ack_url.group(1)
    assert url.startswith(f"{receiver.url}/act/{incident}?t=")
    async with _session() as s:
        # A scanner or preview may fetch it any number of times: nothing changes.
        page = await _open(s, url)
        await _open(s, url)
        async with s.head(url) as r:
            assert r.status == 200
        assert f"Acknowledge incident {incident}?" in page and PHONE in page
        assert await incident_state(receiver, incident) == "firing"
        csrf = _CSRF.search(page)
        assert csrf is not None
        status, done = await _post(s, url, {"t": _token(url), "csrf": csrf.group(1)})
    assert status == 200, done
    assert done == {
        "incident": incident, "action": "ack", "state": "acknowledged",
        "actor": PHONE, "channel": "sms",
    }  # fmt: skip
    assert await incident_state(receiver, incident) == "acknowledged"
    entry = next(a for a in await audit_entries(receiver) if a["target"] == f"incident/{incident}")
    assert (entry["action"], entry["actor"], entry["role"]) == ("ack", PHONE, "link")
    assert entry["detail"]["channel"] == "sms"
    assert KEY not in receiver.log()


async def test_resolve_link_resolves_and_is_audited_with_its_channel(
    receiver: ReceiverProcess, hook: Sink
) -> None:
    incident = await _incident(receiver, "g-resolve")
    links = await _links(hook, incident)
    assert set(links) == {"ack", "resolve", "open"}
    assert links["open"] == f"{receiver.url}/incidents/{incident}"
    async with _session() as s:
        page = await _open(s, links["resolve"])
        csrf = _CSRF.search(page)
        assert csrf is not None
        status, text = await _post(
            s, links["resolve"], {"t": _token(links["resolve"]), "csrf": csrf.group(1)}, html=True
        )
    assert status == 200 and f"Incident {incident} resolved" in text, text
    assert await incident_state(receiver, incident) == "resolved"
    entry = next(a for a in await audit_entries(receiver) if a["target"] == f"incident/{incident}")
    assert (entry["action"], entry["actor"], entry["detail"]["channel"]) == (
        "resolve", "hook", "hook"
    )  # fmt: skip


async def test_replayed_link_is_refused(receiver: ReceiverProcess, hook: Sink) -> None:
    incident = await _incident(receiver, "g-replay")
    url = (await _links(hook, incident))["ack"]
    # Two browsers open the same link before either uses it; each has its own CSRF pair.
    async with _session() as s, _session() as other:
        csrf = _CSRF.search(await _open(s, url))
        other_csrf = _CSRF.search(await _open(other, url))
        assert csrf is not None and other_csrf is not None
        first, _ = await _post(s, url, {"t": _token(url), "csrf": csrf.group(1)})
        assert first == 200
        # Unacknowledged again, so only the used link stands in the way.
        status, doc = await receiver.api("POST", f"/api/v1/incidents/{incident}/unack")
        assert status == 200, doc
        again, doc = await _post(other, url, {"t": _token(url), "csrf": other_csrf.group(1)})
        assert (again, doc["field"]) == (409, "t") and "used already" in doc["error"], doc
        again, page = await _post(
            other, url, {"t": _token(url), "csrf": other_csrf.group(1)}, html=True
        )
        assert again == 409 and "used already" in page
        async with s.get(url, headers=HTML) as r:
            assert r.status == 409 and "used already" in await r.text()
    assert await incident_state(receiver, incident) == "firing"
    acks = [a for a in await audit_entries(receiver) if a["target"] == f"incident/{incident}"]
    assert [a["action"] for a in acks] == ["unack", "ack"]


async def test_altered_other_incident_and_expired_links_are_refused(
    receiver: ReceiverProcess, hook: Sink
) -> None:
    first = await _incident(receiver, "g-first")
    second = await _incident(receiver, "g-second")
    url = (await _links(hook, first))["ack"]
    token = _token(url)
    head, mac = token.split(".")
    altered = f"{head[:-2]}{'A' if head[-2] != 'A' else 'B'}{head[-1]}.{mac}"
    expired = LinkSigner(KEY.encode(), -60, receiver.url, {}).sign(
        first, "ack", "hook", time.time()
    )
    forged = LinkSigner(b"x" * 40, 3600, receiver.url, {}).sign(first, "ack", "hook", time.time())
    cases = [
        (f"/act/{second}", token, 403, "id", f"for incident {first}, not {second}"),
        (f"/act/{first}", altered, 403, "t", "signature does not match"),
        (f"/act/{first}", forged, 403, "t", "signature does not match"),
        (f"/act/{first}", expired, 410, "t", "expired"),
        (f"/act/{first}", "", 400, "t", "no token"),
    ]
    async with _session() as s:
        # Genuine links of both incidents opened first: the page's CSRF cookie is scoped
        # to each incident's path, so each refusal below is about the link alone.
        csrf = {}
        for incident, link in ((first, url), (second, (await _links(hook, second))["ack"])):
            found = _CSRF.search(await _open(s, link))
            assert found is not None
            csrf[f"/act/{incident}"] = found.group(1)
        for path, given, status, field, words in cases:
            async with s.get(receiver.url + path, params={"t": given}) as r:
                doc = await r.json()
                assert (r.status, doc["field"]) == (status, field) and words in doc["error"], doc
            async with s.get(receiver.url + path, params={"t": given}, headers=HTML) as r:
                page = await r.text()
                assert r.status == status and words in page and "<form" not in page
            got, doc = await _post(s, receiver.url + path, {"t": given, "csrf": csrf[path]})
            assert (got, doc["field"]) == (status, field) and words in doc["error"], doc
        missing, doc = await _post(s, url, {"t": token})
        assert (missing, doc["field"]) == (403, "csrf"), doc
    assert await incident_state(receiver, first) == "firing"
    assert await incident_state(receiver, second) == "firing"
    assert [a for a in await audit_entries(receiver) if a["role"] == "link"] == []


async def test_without_a_key_there_are_no_links(tmp_path: Path, hook: Sink) -> None:
    config = {"channels": [{"name": "hook", "type": "webhook", "url": hook.url}],
              "default_route": {"channels": ["hook"]}}  # fmt: skip
    receiver = await ReceiverProcess(tmp_path, config).start()
    try:
        incident = await _incident(receiver, "g-nokey")
        await wait_for(lambda: bool(hook.received), 30, what="the webhook")
        assert "action_links" not in hook.received[0].body
        async with aiohttp.ClientSession() as s, s.get(f"{receiver.url}/act/{incident}?t=x") as r:
            doc = await r.json()
            assert (r.status, doc["field"]) == (404, "action_links"), doc
    finally:
        receiver.stop()
