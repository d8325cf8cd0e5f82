"""SIGKILL the receiver during a burst: every 2xx-answered alert still gets notified."""

from __future__ import annotations

import asyncio
from collections import defaultdict
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

pytestmark = pytest.mark.integration
ALERTS = 1000
PER_WEBHOOK = 2


async def test_sigkill_during_burst_loses_nothing(tmp_path: Path) -> None:
    sink = await Sink().start()
    cfg = {
        "channels": [{"name": "hook", "type": "webhook", "url": sink.url}],
        "default_route": {"channels": ["hook"]},
        "storm": {"threshold": 0},
    }
    receiver = await ReceiverProcess(tmp_path, cfg).start()
    groups = [f"g{i:04d}" for i in range(ALERTS // PER_WEBHOOK)]
    acked: set[str] = set()
    try:
        queue: asyncio.Queue[str] = asyncio.Queue()
        for g in groups:
            queue.put_nowait(g)

        async def client(session: aiohttp.ClientSession) -> None:
            while not queue.empty():
                g = queue.get_nowait()
                alerts = [am_alert(f"{g}-{k}", instance=f"{g}-{k}") for k in range(PER_WEBHOOK)]
                try:
                    status, _ = await post_webhook(session, receiver.url, am_payload(g, alerts))
                except (TimeoutError, aiohttp.ClientError):
                    continue
                if status == 200:
                    acked.add(g)

        async def killer() -> None:
            await wait_for(lambda: len(acked) >= len(groups) // 3, 60, 0.001, "a third acked")
            receiver.kill()

        async with aiohttp.ClientSession() as session:
            await asyncio.gather(killer(), *(client(session) for _ in range(16)))
        assert 0 < len(acked) < len(groups), "the kill must land mid-burst"

        await receiver.start()
        firing: dict[str, set[str]] = defaultdict(set)

        def collected() -> bool:
            for r in sink.received:
                firing[r.body["incident"]["group_labels"]["group"]].add(r.body["idempotency_key"])
            return acked <= set(firing)

        await wait_for(collected, 60, what="notifications for every acknowledged webhook")
        missing = acked - set(firing)
        assert not missing
        # A repeat is a re-send of the same stored notification (same idempotency key),
        # never a second notification for the same change.
        assert all(len(keys) == 1 for keys in firing.values())
        repeats = len(sink.received) - len(firing)
        print(f"acked={len(acked)} delivered_groups={len(firing)} repeats={repeats}")
        # Alertmanager would retry the unanswered ones; the receiver deduplicates.
        async with aiohttp.ClientSession() as session:
            for g in groups:
                alerts = [am_alert(f"{g}-{k}", instance=f"{g}-{k}") for k in range(PER_WEBHOOK)]
                status, _ = await post_webhook(session, receiver.url, am_payload(g, alerts))
                assert status == 200
        await wait_for(lambda: collected() and set(firing) == set(groups), 60, what="all groups")

        async def drained() -> bool:
            return await receiver.metric("tocsin_receiver_outbox_pending") == 0

        await wait_for(drained, 60, what="outbox drained")
        collected()
        assert all(len(keys) == 1 for keys in firing.values())
        assert await receiver.metric("tocsin_receiver_duplicates_total") >= len(acked) * PER_WEBHOOK
    finally:
        receiver.stop()
        await sink.stop()
