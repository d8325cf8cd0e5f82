"""Storm control: rate-limited channels fold into digests; storm mode digests non-critical."""

from __future__ import annotations

import asyncio
from collections import Counter
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


def coverage(sink: Sink) -> Counter[str]:
    """How often each incident (by group) appeared, in a message of its own or a digest."""
    seen: Counter[str] = Counter()
    for r in sink.received:
        if r.body["kind"] == "digest":
            seen.update(entry["group_labels"]["group"] for entry in r.body["digest"])
        else:
            seen[r.body["incident"]["group_labels"]["group"]] += 1
    return seen


async def _post_many(url: str, groups: list[str], severity: str = "warning") -> list[str]:
    queue = list(groups)

    async def client(s: aiohttp.ClientSession) -> None:
        while queue:
            g = queue.pop()
            payload = am_payload(
                g, [am_alert(g, severity=severity)], common={"group": g, "severity": severity}
            )
            status, doc = await post_webhook(s, url, payload)
            assert status == 200, doc

    async with aiohttp.ClientSession() as s:
        await asyncio.gather(*(client(s) for _ in range(8)))
    return groups


async def test_2000_incidents_against_5_per_second(tmp_path: Path) -> None:
    sink = await Sink().start()
    cfg = {
        "channels": [{"name": "hook", "type": "webhook", "url": sink.url, "rate_limit": "5/s"}],
        "default_route": {"channels": ["hook"]},
        "storm": {"threshold": 0, "digest_interval": "1s"},
    }
    receiver = await ReceiverProcess(tmp_path, cfg).start()
    try:
        ids = await _post_many(receiver.url, [f"s{i:04d}" for i in range(2000)])
        await wait_for(lambda: set(coverage(sink)) == set(ids), 60, what="every incident sent")

        async def drained() -> bool:
            return await receiver.metric("tocsin_receiver_outbox_pending") == 0

        await wait_for(drained, 30, what="outbox drained")
        seen = coverage(sink)
        assert set(seen) == set(ids)
        assert max(seen.values()) == 1, "an incident appeared twice"
        digests = [r for r in sink.received if r.body["kind"] == "digest"]
        assert digests, "over the limit, notifications must be folded into digests"
        assert len(sink.received) < 100
        assert await receiver.metric("tocsin_receiver_digests_total") == len(digests)
    finally:
        receiver.stop()
        await sink.stop()


def _storm_of_5(sink: Sink) -> dict[str, Any]:
    """Storm mode from the 6th new incident within a minute, digests every 500 ms."""
    return {
        "channels": [{"name": "hook", "type": "webhook", "url": sink.url}],
        "default_route": {"channels": ["hook"]},
        "storm": {"threshold": 5, "window": "1m", "digest_interval": "500ms"},
    }


async def test_storm_mode_sends_non_critical_to_digests(tmp_path: Path) -> None:
    sink = await Sink().start()
    receiver = await ReceiverProcess(tmp_path, _storm_of_5(sink)).start()
    try:
        first = await _post_many(receiver.url, [f"calm{i}" for i in range(5)])
        await wait_for(lambda: len(sink.received) == 5, 20, what="5 individual messages")
        stormy = await _post_many(receiver.url, [f"storm{i}" for i in range(20)])
        critical = await _post_many(receiver.url, ["fire"], severity="critical")
        everything = set(first) | set(stormy) | set(critical)
        await wait_for(lambda: set(coverage(sink)) == everything, 20, what="all incidents")
        singles = {
            r.body["incident"]["group_labels"]["group"]
            for r in sink.received
            if r.body["kind"] == "firing"
        }
        assert singles == set(first) | set(critical)
        assert max(coverage(sink).values()) == 1
    finally:
        receiver.stop()
        await sink.stop()


async def test_a_burst_opens_the_storm_at_the_threshold(tmp_path: Path) -> None:
    """40 groups posted at once: exactly the first 5 incidents page on their own, the other
    35 go to digests. On PostgreSQL they are processed in parallel lanes, which must count
    each other's incidents (each opening waits for those before it to commit)."""
    sink = await Sink().start()
    receiver = await ReceiverProcess(tmp_path, _storm_of_5(sink)).start()
    try:
        burst = set(await _post_many(receiver.url, [f"b{i}" for i in range(40)]))
        await wait_for(lambda: set(coverage(sink)) == burst, 30, what="all 40 incidents")
        singles = [r for r in sink.received if r.body["kind"] == "firing"]
        assert len(singles) == 5, [r.body["incident"]["group_labels"] for r in singles]
        assert max(coverage(sink).values()) == 1
    finally:
        receiver.stop()
        await sink.stop()
