"""How long a big webhook with few alerts holds up the receiver's other requests.

A 40 MB webhook of 500 alerts (80 KB of annotations each) is posted while a client polls
`/-/healthy` every 10 ms. Printed: the webhook's time from POST to a visible incident,
and `/-/healthy` latency while idle (the reference, same run) and during that work, as
the slowest answer's ratio to the idle median and its share of the webhook's time (on
the event loop the slowest answer waited for most of it).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.integration.receiver_harness import ReceiverProcess, am_alert, am_payload

ALERTS = 500
NOTE = 20_000
CONFIG = {
    "web": {"max_body_bytes": 64 << 20},
    # The first notification is an hour away: the figure is ingestion and processing.
    "default_route": {"escalation": "later"},
    "escalation_policies": [{"name": "later", "steps": [{"after": "1h", "channels": ["log"]}]}],
}


def _payload(group: str) -> dict[str, Any]:
    alerts = []
    for i in range(ALERTS):
        alert = am_alert(f"{group}-{i}")
        alert["annotations"] = {f"note{k}": f"{i}-{k}-" + "y" * NOTE for k in range(4)}
        alerts.append(alert)
    return am_payload(group, alerts)


async def _healthy_latencies(url: str, until: asyncio.Event, out: list[float]) -> None:
    async with aiohttp.ClientSession() as s:
        while not until.is_set():
            t = time.perf_counter()
            async with s.get(url + "/-/healthy") as r:
                await r.read()
            out.append(time.perf_counter() - t)
            await asyncio.sleep(0.01)


async def _run(tmp: Path) -> None:
    rx = await ReceiverProcess(tmp, CONFIG).start()
    try:
        idle: list[float] = []
        stop = asyncio.Event()
        probe = asyncio.create_task(_healthy_latencies(rx.url, stop, idle))
        await asyncio.sleep(2)
        stop.set()
        await probe
        body = json.dumps(_payload("stall")).encode()
        busy: list[float] = []
        stop = asyncio.Event()
        probe = asyncio.create_task(_healthy_latencies(rx.url, stop, busy))
        start = time.perf_counter()
        async with (
            aiohttp.ClientSession() as s,
            s.post(
                rx.url + "/webhook/alertmanager",
                data=body,
                headers={"Content-Type": "application/json"},
            ) as r,
        ):
            assert r.status == 200, await r.text()
        await rx.incident_id("stall")
        elapsed = time.perf_counter() - start
        stop.set()
        await probe
    finally:
        rx.stop()
    ref = statistics.median(idle)
    worst = max(busy)
    print(f"webhook: {len(body) / 1e6:.1f} MB, {ALERTS} alerts, {elapsed:.2f}s POST → incident")
    print(f"/-/healthy idle median (reference): {ref * 1000:.2f} ms over {len(idle)} requests")
    print(
        f"/-/healthy during the webhook: median {statistics.median(busy) / ref:.1f}x,"
        f" slowest {worst / ref:.0f}x the idle median"
        f" = {worst / elapsed:.0%} of the webhook's time ({len(busy)} requests)"
    )


def main() -> int:
    """Run the measurement; 0 on success."""
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_run(Path(tmp)))
    return 0
