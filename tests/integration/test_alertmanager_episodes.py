"""Alert identity by episode, with real Alertmanagers posting to a real receiver process:
two Alertmanagers holding different startsAt for one alert, a lagging firing copy after
the resolution, and a real re-fire."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import require_binary
from tests.integration.receiver_harness import Alertmanager, ReceiverProcess, Sink, wait_for

pytestmark = pytest.mark.integration
LABELS = {"alertname": "Episode", "group": "episode", "severity": "warning"}


def _ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _alert(starts: datetime | None = None, ends: datetime | None = None) -> dict[str, Any]:
    """The one alert; without `starts`, as `amtool alert add` posts it (each Alertmanager
    then sets its own startsAt)."""
    doc: dict[str, Any] = {"labels": LABELS, "annotations": {"summary": "episode"}}
    if starts is not None:
        doc["startsAt"] = _ts(starts)
    if ends is not None:
        doc["endsAt"] = _ts(ends)
    return doc


async def _starts_at(am: Alertmanager) -> str:
    async with aiohttp.ClientSession() as s, s.get(am.url + "/api/v2/alerts") as r:
        alerts = await r.json()
    return str(alerts[0]["startsAt"])


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    s = await Sink().start()
    yield s
    await s.stop()


@pytest.fixture
async def receiver(tmp_path: Path, sink: Sink) -> AsyncIterator[ReceiverProcess]:
    cfg = {
        "channels": [{"name": "hook", "type": "webhook", "url": sink.url}],
        "default_route": {"channels": ["hook"]},
    }
    r = await ReceiverProcess(tmp_path, cfg).start()
    yield r
    r.stop()


@pytest.fixture
async def ams(tmp_path: Path, receiver: ReceiverProcess) -> AsyncIterator[list[Alertmanager]]:
    binary = require_binary("alertmanager")
    hook = receiver.url + "/webhook/alertmanager"
    started = [await Alertmanager(binary, tmp_path, hook).start() for _ in range(2)]
    yield started
    for am in started:
        am.stop()


async def _settled(receiver: ReceiverProcess, webhooks: int) -> None:
    """Wait until `webhooks` webhooks were stored, processed and their notifications sent."""

    async def done() -> bool:
        return (
            await receiver.metric('tocsin_receiver_webhooks_total{code="200"}') >= webhooks
            and await receiver.metric("tocsin_receiver_inbox_pending") == 0
            and await receiver.metric("tocsin_receiver_outbox_pending") == 0
        )

    await wait_for(done, 30, what=f"{webhooks} webhooks processed and delivered")


async def _incidents(receiver: ReceiverProcess) -> int:
    status, doc = await receiver.api("GET", '/api/v1/incidents?match=group="episode"')
    assert status == 200, doc
    return len(doc["incidents"])


async def test_two_alertmanagers_with_different_startsat_notify_once(
    sink: Sink, receiver: ReceiverProcess, ams: list[Alertmanager]
) -> None:
    first, second = ams
    await first.post_alerts([_alert()])
    await _settled(receiver, 1)
    # Seconds apart, so the second Alertmanager's own startsAt differs from the first's.
    await asyncio.sleep(1.5)
    await second.post_alerts([_alert()])
    await _settled(receiver, 2)
    assert await _starts_at(first) != await _starts_at(second)
    assert [r.body["kind"] for r in sink.received] == ["firing"]

    now = datetime.now(UTC)
    for am in ams:
        await am.post_alerts([_alert(now - timedelta(hours=1), now)])
    await _settled(receiver, 4)
    assert [r.body["kind"] for r in sink.received] == ["firing", "resolved"]
    assert await _incidents(receiver) == 1


async def test_a_lagging_copy_reopens_nothing_and_a_refire_pages(
    sink: Sink, receiver: ReceiverProcess, ams: list[Alertmanager]
) -> None:
    first, lagging = ams
    t = datetime.now(UTC) - timedelta(minutes=30)
    await first.post_alerts([_alert(t)])
    await _settled(receiver, 1)
    await first.post_alerts([_alert(t, t + timedelta(minutes=20))])
    await _settled(receiver, 2)
    assert [r.body["kind"] for r in sink.received] == ["firing", "resolved"]

    # Firing from T+5 s, before the stored resolution at T+20 m: stale.
    await lagging.post_alerts([_alert(t + timedelta(seconds=5))])
    await _settled(receiver, 3)
    assert [r.body["kind"] for r in sink.received] == ["firing", "resolved"]
    assert await _incidents(receiver) == 1

    # Firing again from now, after the resolution: a new incident and one page.
    await first.post_alerts([_alert(datetime.now(UTC))])
    await _settled(receiver, 4)
    assert [r.body["kind"] for r in sink.received] == ["firing", "resolved", "firing"]
    assert await _incidents(receiver) == 2
    assert sink.received[2].body["incident"]["id"] != sink.received[0].body["incident"]["id"]
