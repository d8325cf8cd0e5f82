"""A real Alertmanager delivering to the receiver, which delivers to a local webhook sink."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_binary
from tests.integration.receiver_harness import Alertmanager, ReceiverProcess, Sink, wait_for

pytestmark = pytest.mark.integration


def _ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _alert(
    name: str, starts: datetime, ends: datetime | None = None, **labels: str
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "labels": {"alertname": name, "group": name, "severity": "warning", **labels},
        "annotations": {"summary": f"{name} is broken"},
        "startsAt": _ts(starts),
        "generatorURL": "http://prometheus.example/graph",
    }
    if ends is not None:
        doc["endsAt"] = _ts(ends)
    return doc


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


async def test_alertmanager_delivers_through_receiver(
    tmp_path: Path, sink: Sink, receiver: ReceiverProcess
) -> None:
    am = await Alertmanager(
        require_binary("alertmanager"), tmp_path, receiver.url + "/webhook/alertmanager"
    ).start()
    try:
        starts = datetime.now(UTC) - timedelta(minutes=1)
        await am.post_alerts([_alert("DiskFull", starts, instance="db1")])
        await wait_for(lambda: len(sink.received) >= 1, 30, what="notification at the sink")
        got = sink.received[0]
        assert got.body["kind"] == "firing"
        incident = got.body["incident"]
        assert incident["group_labels"] == {"group": "DiskFull"}
        assert incident["alerts"][0]["labels"]["instance"] == "db1"
        assert incident["alerts"][0]["labels"]["alertname"] == "DiskFull"
        assert incident["receiver"] == "tocsin"
        status, detail = await receiver.api("GET", f"/api/v1/incidents/{incident['id']}")
        assert status == 200
        # The correlation id the webhook got is carried to the notification and its header.
        assert got.body["correlation_id"] == detail["correlation_id"] != ""
        assert got.headers["X-Request-ID"] == detail["correlation_id"]
        assert detail["notifications"][0]["state"] == "delivered"
        assert detail["notifications"][0]["attempt_log"][0]["status"] == "200"

        await am.post_alerts([_alert("DiskFull", starts, datetime.now(UTC), instance="db1")])
        await wait_for(lambda: len(sink.of_kind("resolved")) == 1, 30, what="resolved")
        assert sink.of_kind("resolved")[0].body["incident"]["state"] == "resolved"
        assert len(sink.of_kind("firing")) == 1
    finally:
        am.stop()


async def test_two_alertmanagers_one_notification_per_change(
    tmp_path: Path, sink: Sink, receiver: ReceiverProcess
) -> None:
    binary = require_binary("alertmanager")
    hook = receiver.url + "/webhook/alertmanager"
    ams = [await Alertmanager(binary, tmp_path, hook).start() for _ in range(2)]
    try:
        starts = datetime.now(UTC) - timedelta(minutes=1)
        alerts = [_alert("HAPair", starts, instance=f"i{i}") for i in range(3)]
        for am in ams:
            await am.post_alerts(alerts)

        async def both_sent(n: int) -> bool:
            return await receiver.metric('tocsin_receiver_webhooks_total{code="200"}') >= n

        await wait_for(lambda: both_sent(2), 30, what="both Alertmanagers' webhooks")
        await wait_for(lambda: len(sink.received) >= 1, 30, what="firing notification")
        resolved_at = datetime.now(UTC)
        for am in ams:
            await am.post_alerts(
                [_alert("HAPair", starts, resolved_at, instance=f"i{i}") for i in range(3)]
            )
        await wait_for(lambda: both_sent(4), 30, what="both resolved webhooks")
        await wait_for(lambda: len(sink.of_kind("resolved")) >= 1, 30, what="resolved")

        async def drained() -> bool:
            return await receiver.metric("tocsin_receiver_outbox_pending") == 0

        # A webhook is answered once stored and processed after: wait for the four to be
        # processed (each pair's second copy counts its three alerts as duplicates).
        async def copies_deduplicated() -> bool:
            return await receiver.metric("tocsin_receiver_duplicates_total") >= 6

        await wait_for(copies_deduplicated, 30, what="the second copies deduplicated")
        await wait_for(drained, 30, what="outbox drained")
        assert [r.body["kind"] for r in sink.received] == ["firing", "resolved"]
    finally:
        for am in ams:
            am.stop()
