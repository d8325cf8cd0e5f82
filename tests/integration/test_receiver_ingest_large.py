"""A 50k-alert webhook (9.5 MB) is decoded and processed off the event loop."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import pytest

from tests.integration.receiver_harness import ReceiverProcess, am_payload

pytestmark = pytest.mark.integration
ALERTS = 50_000


async def test_big_webhook_does_not_stall_other_requests(tmp_path: Path) -> None:
    """While a big webhook is decoded and processed, /-/healthy keeps answering: its
    slowest answer takes well under half the webhook's time (on the loop it took all)."""
    receiver = await ReceiverProcess(tmp_path, {"web": {"max_body_bytes": 16 << 20}}).start()
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "A", "i": str(i)},
            "annotations": {},
            "startsAt": "2024-01-01T00:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": f"{i:016x}",
        }
        for i in range(ALERTS)
    ]
    body = json.dumps(am_payload("big", alerts)).encode()
    latencies: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        async with aiohttp.ClientSession() as s:
            while not done.is_set():
                t = time.perf_counter()
                async with s.get(receiver.url + "/-/healthy") as r:
                    assert r.status == 200
                latencies.append(time.perf_counter() - t)
                await asyncio.sleep(0.01)

    try:
        task = asyncio.create_task(probe())
        start = time.perf_counter()
        async with (
            aiohttp.ClientSession() as s,
            s.post(
                receiver.url + "/webhook/alertmanager",
                data=body,
                headers={"Content-Type": "application/json"},
            ) as r,
        ):
            assert r.status == 200, await r.text()
        await receiver.incident_id("big")
        elapsed = time.perf_counter() - start
        done.set()
        await task
        assert await receiver.metric("tocsin_receiver_inbox_pending") == 0
        assert await receiver.metric("tocsin_receiver_alerts_received_total") == ALERTS
        assert len(latencies) >= 3
        assert max(latencies) < elapsed / 2, (max(latencies), elapsed)
    finally:
        receiver.stop()
