"""SIGKILL the receiver during a burst: every alert of every 2xx-answered webhook still
gets notified — new incidents, updates to existing ones and resolutions — and nothing is
notified twice except bounded re-sends of the same stored notification."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.integration.receiver_harness import (
    Received,
    ReceiverProcess,
    Sink,
    am_alert,
    am_payload,
    post_webhook,
    wait_for,
)

pytestmark = pytest.mark.integration
NEW = 300
UPDATED = 100
RESOLVED = 100
CONCURRENCY = 4
LATER = "2024-05-01T10:05:00Z"


def _group_of(r: Received) -> str:
    return str(r.body["incident"]["group_labels"]["group"])


def _alert_states(r: Received) -> dict[str, str]:
    return {a["fingerprint"]: a["status"] for a in r.body["incident"]["alerts"]}


def _initial(group: str) -> dict[str, Any]:
    return am_payload(group, [am_alert(f"{group}-0", instance=f"{group}-0")])


def _burst_webhook(group: str) -> dict[str, Any]:
    """The webhook the burst sends for `group`, by kind (n: new, u: update, r: resolve)."""
    if group.startswith("n"):
        alerts = [am_alert(f"{group}-{k}", instance=f"{group}-{k}") for k in range(2)]
        return am_payload(group, alerts)
    first = am_alert(f"{group}-0", status="resolved", instance=f"{group}-0")
    if group.startswith("u"):
        # One alert resolves, a new one fires: an update of the existing incident.
        second = am_alert(f"{group}-1", starts=LATER, instance=f"{group}-1")
        return am_payload(group, [first, second])
    return am_payload(group, [first], status="resolved")


def _expected(group: str) -> tuple[str, dict[str, str]]:
    """(kind, alert states) of the notification the burst webhook must cause."""
    if group.startswith("n"):
        return "firing", {f"{group}-0": "firing", f"{group}-1": "firing"}
    if group.startswith("u"):
        return "firing", {f"{group}-0": "resolved", f"{group}-1": "firing"}
    return "resolved", {f"{group}-0": "resolved"}


async def test_sigkill_during_burst_loses_nothing(tmp_path: Path) -> None:
    sink = await Sink().start()
    cfg = {
        "channels": [{"name": "hook", "type": "webhook", "url": sink.url}],
        "default_route": {"channels": ["hook"]},
        "storm": {"threshold": 0},
        "outbox": {"concurrency": CONCURRENCY},
    }
    receiver = await ReceiverProcess(tmp_path, cfg).start()
    existing = [f"u{i:03d}" for i in range(UPDATED)] + [f"r{i:03d}" for i in range(RESOLVED)]
    groups = [f"n{i:03d}" for i in range(NEW)] + existing
    acked: set[str] = set()
    try:
        async with aiohttp.ClientSession() as session:
            for g in existing:
                status, _ = await post_webhook(session, receiver.url, _initial(g))
                assert status == 200
        await wait_for(
            lambda: {_group_of(r) for r in sink.received} >= set(existing),
            60,
            what="the existing incidents' first notifications",
        )
        before_burst = len(sink.received)

        queue: asyncio.Queue[str] = asyncio.Queue()
        for g in sorted(groups, key=lambda g: g[1:] + g[0]):
            queue.put_nowait(g)

        async def client(session: aiohttp.ClientSession) -> None:
            while not queue.empty():
                g = queue.get_nowait()
                try:
                    status, _ = await post_webhook(session, receiver.url, _burst_webhook(g))
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
        assert {g[0] for g in acked} == {"n", "u", "r"}, "every kind must be acked"

        await receiver.start()

        def caused(group_set: set[str]) -> set[str]:
            """Groups in `group_set` whose burst webhook's change, alert by alert, has
            been notified."""
            done = set()
            for r in sink.received[before_burst:]:
                g = _group_of(r)
                if g in group_set and (r.body["kind"], _alert_states(r)) == _expected(g):
                    done.add(g)
            return done

        await wait_for(
            lambda: caused(acked) == acked, 60, what="every alert of every acked webhook"
        )
        # Alertmanager retries the unanswered ones; the receiver deduplicates the rest.
        async with aiohttp.ClientSession() as session:
            for g in groups:
                status, _ = await post_webhook(session, receiver.url, _burst_webhook(g))
                assert status == 200
        await wait_for(lambda: caused(set(groups)) == set(groups), 60, what="all groups")

        async def drained() -> bool:
            return await receiver.metric("tocsin_receiver_outbox_pending") == 0

        await wait_for(drained, 60, what="outbox drained")
        keys: dict[str, set[str]] = defaultdict(set)
        for r in sink.received:
            keys[_group_of(r)].add(r.body["idempotency_key"])
        # One stored notification per change: new groups one, updated and resolved groups
        # two (the first firing, then the burst's change). Never a second for a change.
        assert {g: len(keys[g]) for g in groups} == {
            g: 1 if g.startswith("n") else 2 for g in groups
        }
        # Re-sends of the same stored notification (same idempotency key) happen only
        # for deliveries in flight when the process died: a few per sending slot.
        repeats = len(sink.received) - sum(len(k) for k in keys.values())
        assert 0 <= repeats <= 4 * CONCURRENCY, f"{repeats} re-sends"
        assert await receiver.metric("tocsin_receiver_duplicates_total") >= sum(
            len(_expected(g)[1]) for g in acked
        )
        assert await receiver.metric("tocsin_receiver_webhooks_failed_processing") == 0
    finally:
        receiver.stop()
        await sink.stop()
