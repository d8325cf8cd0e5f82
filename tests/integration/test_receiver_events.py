"""Server-Sent Events of a live receiver: ids and resuming with Last-Event-ID, the events of
escalation steps, deliveries and dead letters (each checked against its schema in the
OpenAPI document), and RFC 3339 timestamps in every event and API answer."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from receiver.api.openapi import document
from tests.integration.receiver_harness import (
    ReceiverProcess,
    Sink,
    am_alert,
    am_payload,
    post_webhook,
    wait_for,
)
from tests.procs import free_port

pytestmark = pytest.mark.integration

TOKEN = "events-admin-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class SSE:
    """One `/api/v1/events` connection, read in the background into `events`."""

    url: str
    last_event_id: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    async def open(self) -> SSE:
        connected = asyncio.Event()
        self._task = asyncio.create_task(self._read(connected))
        await asyncio.wait_for(connected.wait(), 10)
        return self

    async def _read(self, connected: asyncio.Event) -> None:
        headers = dict(HEADERS)
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with (
            aiohttp.ClientSession(timeout=timeout) as s,
            s.get(self.url + "/api/v1/events", headers=headers) as r,
        ):
            assert r.status == 200, await r.text()
            frame: dict[str, Any] = {}
            async for raw in r.content:
                line = raw.decode().rstrip("\n")
                if line == ": connected":
                    connected.set()
                elif line.startswith(("id: ", "event: ")):
                    name, _, value = line.partition(": ")
                    frame[name] = value
                elif line.startswith("data: "):
                    frame["data"] = json.loads(line[6:])
                elif not line and frame:
                    self.events.append(frame)
                    frame = {}

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e["data"] for e in self.events if e.get("event") == kind]


def _seq(event: dict[str, Any]) -> int:
    return int(event["id"].rsplit("-", 1)[1])


def _schema_of(kind: str) -> Draft202012Validator:
    """A validator for one SSE event kind's data, as the OpenAPI document states it."""
    doc = document()
    ref = doc["paths"]["/api/v1/events"]["get"]["x-sse-events"][kind]
    return Draft202012Validator(
        {**ref, "components": doc["components"]}, format_checker=FormatChecker()
    )


def _assert_times_are_rfc3339(doc: Any, where: str = "$") -> None:
    """Every `at`/`*_at` value is None or an RFC 3339 string with a zone, and no number
    anywhere looks like Unix seconds."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            if (key == "at" or key.endswith("_at")) and value is not None:
                assert isinstance(value, str), f"{where}.{key} = {value!r}"
                assert datetime.fromisoformat(value).tzinfo is not None, f"{where}.{key}"
            _assert_times_are_rfc3339(value, f"{where}.{key}")
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            _assert_times_are_rfc3339(value, f"{where}[{i}]")
    elif isinstance(doc, float | int) and not isinstance(doc, bool):
        assert not 1e9 <= doc <= 1e11, f"{where} = {doc!r} looks like a Unix timestamp"


def _assert_no_errors_logged(receiver: ReceiverProcess) -> None:
    """Nothing went wrong on the way (a delivery task that raised would be retried by the
    next outbox pass, so the events would still come, only later)."""
    errors = [line for line in receiver.log().splitlines() if '"level": "error"' in line]
    assert errors == []


def _config(sink: Sink, dead_url: str) -> dict[str, Any]:
    return {
        "auth": {"tokens": [{"name": "ops", "roles": ["admin", "ingest"], "token": TOKEN}]},
        "channels": [
            {"name": "good", "type": "webhook", "url": sink.url},
            {"name": "broken", "type": "webhook", "url": dead_url},
        ],
        "escalation_policies": [
            {
                "name": "oncall",
                "steps": [
                    {"after": "0s", "channels": ["good"]},
                    {"after": "1s", "channels": ["broken"]},
                ],
            }
        ],
        "routes": [{"matchers": ['group=~"esc.*"'], "escalation": "oncall"}],
        "default_route": {"channels": ["good"]},
        "outbox": {"max_attempts": 2, "backoff_initial": "1s", "backoff_max": "1s"},
    }


async def _post(url: str, group: str, status: str = "firing") -> None:
    async with aiohttp.ClientSession() as s:
        payload = am_payload(group, [am_alert(group, status=status)], status=status)
        code, doc = await post_webhook(s, url, payload, HEADERS)
    assert code == 200, doc


async def test_reconnect_with_last_event_id_gets_exactly_the_missed_events(
    tmp_path: Path,
) -> None:
    sink = await Sink().start()
    receiver = await ReceiverProcess(tmp_path, _config(sink, sink.url)).start()
    # `all_along` stays connected throughout: what the reconnecting client must end up with.
    all_along = await SSE(receiver.url).open()
    client = await SSE(receiver.url).open()
    try:
        await _post(receiver.url, "one")
        await wait_for(lambda: len(client.of("delivery")) == 1, 20, what="first delivery")
        await client.close()
        seen = list(client.events)

        incident = await receiver.incident_id("one", TOKEN)
        status, _ = await receiver.api("POST", f"/api/v1/incidents/{incident}/ack", TOKEN)
        assert status == 200
        await _post(receiver.url, "two")
        # The ack is announced to the channel notified (a delivery of its own), then "two".
        await wait_for(lambda: len(all_along.of("delivery")) == 3, 20, what="second delivery")
        missed = all_along.events[len(seen) :]
        changes = [e["data"]["change"] for e in missed if e["event"] == "incident"]
        assert changes == ["acknowledged", "created"]

        again = await SSE(receiver.url, last_event_id=seen[-1]["id"]).open()
        await _post(receiver.url, "three")
        await wait_for(lambda: len(all_along.of("delivery")) == 4, 20, what="third delivery")
        await wait_for(
            lambda: [e["id"] for e in seen + again.events] == [e["id"] for e in all_along.events],
            20,
            what="the resumed stream to catch up",
        )
        await again.close()
        assert again.events[: len(missed)] == missed
        assert seen + again.events == all_along.events
        # Consecutive ids of one epoch: no gap and no repeat anywhere.
        seqs = [_seq(e) for e in all_along.events]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        assert len({e["id"].split("-")[0] for e in all_along.events}) == 1
        _assert_no_errors_logged(receiver)

        stale = await SSE(receiver.url, last_event_id="0bad0bad-3").open()
        await wait_for(lambda: bool(stale.events), 10, what="reset event")
        await stale.close()
        assert stale.events[0]["event"] == "reset"
        assert stale.events[0]["id"] == all_along.events[-1]["id"]
        assert stale.events[0]["data"]["reason"] == "unknown_epoch"
        _schema_of("reset").validate(stale.events[0]["data"])

        async with (
            aiohttp.ClientSession() as s,
            s.get(
                receiver.url + "/api/v1/events", headers={**HEADERS, "Last-Event-ID": "x y"}
            ) as r,
        ):
            assert r.status == 400 and (await r.json())["field"] == "Last-Event-ID"
    finally:
        await all_along.close()
        receiver.stop()
        await sink.stop()


async def test_escalation_delivery_and_dead_letter_events_with_rfc3339_times(
    tmp_path: Path,
) -> None:
    sink = await Sink().start()
    # Nothing listens on this port: every attempt of `broken` fails and is retried.
    dead_url = f"http://127.0.0.1:{free_port()}/hook"
    receiver = await ReceiverProcess(tmp_path, _config(sink, dead_url)).start()
    sse = await SSE(receiver.url).open()
    try:
        await _post(receiver.url, "escalating")
        await wait_for(lambda: bool(sse.of("deadletter")), 30, what="dead letter event")
        incident = await receiver.incident_id("escalating", TOKEN)

        steps = sse.of("escalation")
        assert [(e["step"], e["channels"], e["repeat"]) for e in steps[:2]] == [
            (0, ["good"], False),
            (1, ["broken"], False),
        ]
        assert {e["incident_id"] for e in steps} == {incident}
        deliveries = sse.of("delivery")
        good = [d for d in deliveries if d["channel"] == "good"]
        broken = [d for d in deliveries if d["channel"] == "broken"]
        assert [(d["outcome"], d["retry"]) for d in good] == [("sent", False)]
        assert [(d["outcome"], d["retry"], d["attempt"]) for d in broken] == [
            ("failed", True, 1),
            ("failed", False, 2),
        ]
        assert all(d["error"] for d in broken)
        assert good[0]["notification_id"] in steps[0]["notification_ids"]
        [dead] = sse.of("deadletter")
        assert (
            dead["notification_id"] == broken[0]["notification_id"] in steps[1]["notification_ids"]
        )
        assert (dead["channel"], dead["attempts"], dead["incident_id"]) == ("broken", 2, incident)

        for event in sse.events:
            _schema_of(event["event"]).validate(event["data"])
            _assert_times_are_rfc3339(event["data"], event["event"])

        status, _ = await receiver.api("POST", f"/api/v1/incidents/{incident}/ack", TOKEN)
        assert status == 200
        for path in (
            "/api/v1/incidents",
            f"/api/v1/incidents/{incident}",
            "/api/v1/deadletters",
            "/api/v1/audit",
            "/api/v1/channels",
        ):
            status, doc = await receiver.api("GET", path, TOKEN)
            assert status == 200, (path, doc)
            _assert_times_are_rfc3339(doc, path)
        status, doc = await receiver.api("POST", "/api/v1/channels/good/test", TOKEN)
        assert status == 200 and doc["ok"], doc
        _assert_times_are_rfc3339(doc, "channels/good/test")
        _assert_no_errors_logged(receiver)
    finally:
        await sse.close()
        receiver.stop()
        await sink.stop()
