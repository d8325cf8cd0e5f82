"""Readiness follows whether commits are durable: the storage directory taken away under
a running receiver (its commits can no longer be synced) makes `/-/ready` 503 with the
reason, refused webhooks are not counted as stored, and putting it back recovers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.integration.receiver_harness import (
    ReceiverProcess,
    Sink,
    am_alert,
    am_payload,
    post_webhook,
    wait_for,
)

pytestmark = pytest.mark.integration


async def ready(receiver: ReceiverProcess) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.get(receiver.url + "/-/ready") as r:
        return r.status, await r.json(content_type=None) if r.status != 200 else None


def groups(sink: Sink) -> set[str]:
    return {r.body["incident"]["group_labels"]["group"] for r in sink.received}


@pytest.mark.sqlite_only(
    "moves the SQLite files away; PostgreSQL outages: test_receiver_postgres_outage"
)
async def test_ready_is_503_while_commits_fail_and_recovers(tmp_path: Path) -> None:
    sink = await Sink().start()
    cfg = {
        "channels": [{"name": "h", "type": "webhook", "url": sink.url}],
        "default_route": {"channels": ["h"]},
        "storm": {"threshold": 0},
    }
    receiver = await ReceiverProcess(tmp_path, cfg).start()
    away = tmp_path / "data.away"
    try:
        async with aiohttp.ClientSession() as session:
            status, _ = await post_webhook(
                session, receiver.url, am_payload("before", [am_alert("b")])
            )
            assert status == 200
            await wait_for(lambda: groups(sink) == {"before"}, 30, what="the first delivery")
            assert await receiver.metric("tocsin_receiver_inbox_pending") == 0

            # The database files disappear from under the open connections: SQLite
            # still appends to them, but nothing can make those commits durable.
            os.rename(receiver.storage, away)
            refused = [f"refused{i}" for i in range(3)]
            for group in refused:
                status, doc = await post_webhook(
                    session, receiver.url, am_payload(group, [am_alert(group)])
                )
                assert status == 503, doc
            status, reason = await ready(receiver)
            assert status == 503 and reason["field"] == "store", reason
            assert "cannot commit" in reason["error"] and "sync" in reason["error"], reason
            assert await receiver.metric("tocsin_receiver_inbox_pending") == 0
            assert await receiver.metric('tocsin_receiver_webhooks_total{code="503"}') == 3
            assert await receiver.metric('tocsin_receiver_webhooks_total{code="200"}') == 1

            os.rename(away, receiver.storage)

            async def recovered() -> bool:
                return (await ready(receiver))[0] == 200

            # Nothing is posted meanwhile: readiness's own trial commit notices.
            await wait_for(recovered, 30, interval=0.5, what="readiness after recovery")
            status, _ = await post_webhook(
                session, receiver.url, am_payload("after", [am_alert("a")])
            )
            assert status == 200
            await wait_for(lambda: "after" in groups(sink), 30, what="delivery after recovery")

            async def settled() -> bool:
                return await receiver.metric("tocsin_receiver_inbox_pending") == 0

            await wait_for(settled, 30, what="the inbox to empty")
            status, doc = await receiver.api("GET", "/api/v1/incidents?limit=100")
            assert status == 200, doc
            assert {i["group_labels"]["group"] for i in doc["incidents"]} == {"before", "after"}
            assert groups(sink) == {"before", "after"}
    finally:
        if away.exists():
            os.rename(away, receiver.storage)
        receiver.stop()
        await sink.stop()
