"""Processing commits are never synced, and need not be: with every one of them lost,
the intake alone brings back every 2xx-answered webhook.

A power cut can lose the main database's commits since its last sync (processing and
outbox rows are written without one), never an answered webhook's intake row. This
test makes that happen for real: the receiver is SIGKILLed mid-burst and its main
database is put back as it was before the burst (every processing commit since then
lost), the intake file as the kill left it. On restart every answered webhook's change
is notified."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

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

pytestmark = [
    pytest.mark.integration,
    pytest.mark.sqlite_only("the SQLite intake file and unsynced WAL commits"),
]
EXISTING = 40
NEW = 120


def _change(r: Received) -> tuple[str, str]:
    return str(r.body["incident"]["group_labels"]["group"]), str(r.body["kind"])


def _burst_webhook(group: str) -> dict[str, object]:
    if group.startswith("n"):
        return am_payload(group, [am_alert(f"{group}-0", instance=group)])
    alert = am_alert(f"{group}-0", status="resolved", instance=group)
    return am_payload(group, [alert], status="resolved")


def _expected(group: str) -> tuple[str, str]:
    return group, "firing" if group.startswith("n") else "resolved"


def _main_files(storage: Path) -> list[Path]:
    return [storage / n for n in ("receiver.db", "receiver.db-wal", "receiver.db-shm")]


async def test_lost_processing_commits_are_rebuilt_from_the_intake(tmp_path: Path) -> None:
    sink = await Sink().start()
    cfg = {
        "channels": [{"name": "hook", "type": "webhook", "url": sink.url}],
        "default_route": {"channels": ["hook"]},
        "storm": {"threshold": 0},
    }
    receiver = await ReceiverProcess(tmp_path, cfg).start()
    existing = [f"r{i:03d}" for i in range(EXISTING)]
    groups = [f"n{i:03d}" for i in range(NEW)] + existing
    acked: set[str] = set()
    try:
        async with aiohttp.ClientSession() as session:
            for g in existing:
                status, _ = await post_webhook(
                    session, receiver.url, am_payload(g, [am_alert(f"{g}-0", instance=g)])
                )
                assert status == 200
        await wait_for(
            lambda: {_change(r) for r in sink.received} >= {(g, "firing") for g in existing},
            60,
            what="the existing incidents' firing notifications",
        )
        receiver.stop()
        saved = tmp_path / "main-before-burst"
        saved.mkdir()
        for f in _main_files(receiver.storage):
            if f.exists():
                shutil.copy2(f, saved / f.name)
        before_burst = len(sink.received)

        await receiver.start()
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
        assert {g[0] for g in acked} == {"n", "r"}, "both kinds must be acked"

        # Every processing commit since the burst began is lost; the intake is as it was.
        intake = sqlite3.connect(receiver.storage / "receiver.db-intake")
        held = intake.execute("SELECT COUNT(*) FROM intake").fetchone()[0]
        intake.close()
        assert held >= len(acked), "the intake holds every answered webhook"
        for f in _main_files(receiver.storage):
            f.unlink(missing_ok=True)
        for f in saved.iterdir():
            shutil.copy2(f, receiver.storage / f.name)

        await receiver.start()
        await wait_for(
            lambda: (
                {_change(r) for r in sink.received[before_burst:]} >= {_expected(g) for g in acked}
            ),
            60,
            what="every answered webhook's change notified",
        )
        assert await receiver.metric("tocsin_receiver_inbox_pending") == 0
        assert await receiver.metric("tocsin_receiver_webhooks_failed_processing") == 0
        assert '"webhooks_replayed"' in receiver.log()
    finally:
        receiver.stop()
        await sink.stop()
