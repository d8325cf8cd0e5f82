"""PostgreSQL stopped under a running receiver, then started again: `/-/ready` is 503
with the reason, webhooks are answered 503 (Alertmanager retries those), nothing
answered 200 is lost, and the receiver recovers without a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

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
from tests.postgres import PASSWORD, Cluster

pytestmark = [
    pytest.mark.integration,
    pytest.mark.own_backend("stops and starts a PostgreSQL server of its own"),
]
GROUPS = 40


async def _ready(receiver: ReceiverProcess) -> tuple[int, str]:
    async with aiohttp.ClientSession() as s, s.get(receiver.url + "/-/ready") as r:
        return r.status, await r.text()


async def _deliver(
    session: aiohttp.ClientSession, url: str, group: str, refused: list[str]
) -> None:
    """Post one group's webhook until it is answered 200, as Alertmanager retries a 5xx."""
    while True:
        try:
            status, doc = await post_webhook(session, url, am_payload(group, [am_alert(group)]))
        except aiohttp.ClientError:
            status, doc = 0, None
        if status == 200:
            return
        assert status in (0, 503), (status, doc)
        refused.append(group)
        await asyncio.sleep(0.5)


async def test_database_outage_is_reported_refused_and_recovered(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    # The session cluster is asked for only so that a missing PostgreSQL skips (or fails
    # under CI) in one place; this test stops a server, so it starts one of its own.
    cluster = await asyncio.to_thread(Cluster)
    sink = await Sink().start()
    dsn = cluster.create_database()
    cfg = {
        "channels": [{"name": "h", "type": "webhook", "url": sink.url}],
        "default_route": {"channels": ["h"]},
        "storm": {"threshold": 0},
        "storage": {"backend": "postgres", "dsn": dsn, "connect_timeout": "2s"},
    }
    receiver = await ReceiverProcess(tmp_path, cfg).start()
    assert receiver.proc is not None
    pid = receiver.proc.pid
    senders: list[asyncio.Task[None]] = []
    try:
        async with aiohttp.ClientSession() as session:
            status, _ = await post_webhook(
                session, receiver.url, am_payload("before", [am_alert("b")])
            )
            assert status == 200

            # Webhooks keep coming through the outage, each retried until accepted.
            refused: list[str] = []
            for i in range(GROUPS):
                senders.append(
                    asyncio.create_task(_deliver(session, receiver.url, f"g{i}", refused))
                )
                await asyncio.sleep(0.05)
                if i == GROUPS // 4:
                    await asyncio.to_thread(cluster.stop_server)

            async def not_ready() -> bool:
                status, text = await _ready(receiver)
                return status == 503 and "cannot reach the database at 127.0.0.1" in text

            await wait_for(not_ready, 30, interval=0.5, what="/-/ready to report the outage")
            status, text = await _ready(receiver)
            assert PASSWORD not in text, text
            status, doc = await post_webhook(
                session, receiver.url, am_payload("during", [am_alert("d")])
            )
            assert status == 503 and "retry" in doc["error"], doc

            await asyncio.to_thread(cluster.start)

            async def ready() -> bool:
                return (await _ready(receiver))[0] == 200

            await wait_for(ready, 30, interval=0.5, what="/-/ready again after the restart")
            await asyncio.wait_for(asyncio.gather(*senders), 60)
            assert refused, "the outage refused no webhook: it did not happen while posting"
            status, _ = await post_webhook(
                session, receiver.url, am_payload("after", [am_alert("a")])
            )
            assert status == 200

        expected = {"before", "after", *(f"g{i}" for i in range(GROUPS))}

        def delivered() -> set[str]:
            return {r.body["incident"]["group_labels"]["group"] for r in sink.of_kind("firing")}

        await wait_for(lambda: expected <= delivered(), 60, interval=0.2, what="every group")
        assert "during" not in delivered()  # refused with 503, never sent again
        assert receiver.proc.poll() is None and receiver.proc.pid == pid  # no restart
        assert await receiver.metric("tocsin_receiver_inbox_pending") == 0
        assert PASSWORD not in receiver.log()
    finally:
        for task in senders:
            task.cancel()
        receiver.stop()
        await sink.stop()
        await asyncio.to_thread(cluster.stop)
