"""Ingest in a running receiver: a full disk, a poison webhook, correlation ids, limits."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest

from tests.integration.receiver_harness import (
    BACKEND,
    ReceiverProcess,
    Sink,
    am_alert,
    am_payload,
    post_webhook,
    wait_for,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 1200 KiB tmpfs: a real full disk a few webhooks in (mounting needs root)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root (and mount) to mount a small tmpfs; CI runs as root")
    mnt = tmp_path / "fs"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1200k", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill_up(mnt: Path) -> Path:
    """Take every byte left on the filesystem (a disk full for everyone)."""
    filler = mnt / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def _grow(mnt: Path) -> None:
    subprocess.run(["mount", "-o", "remount,size=64m", str(mnt)], check=True)


def _fat(group: str) -> dict[str, Any]:
    alert = am_alert(group, instance=group)
    alert["annotations"]["description"] = "x" * 250_000
    return am_payload(group, [alert])


def _states(db: Path, ids: list[int]) -> dict[int, str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        marks = ",".join("?" * len(ids))
        rows = conn.execute(f"SELECT id, state FROM webhooks WHERE id IN ({marks})", ids)
        return dict(rows.fetchall())
    finally:
        conn.close()


async def _ready(receiver: ReceiverProcess) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.get(receiver.url + "/-/ready") as r:
        return r.status, await r.json(content_type=None) if r.status != 200 else None


@pytest.mark.sqlite_only("fills the filesystem under the SQLite file")
async def test_full_disk_webhooks_are_processed_while_running(
    tmp_path: Path, small_fs: Path
) -> None:
    sink = await Sink().start()
    # Processing copies the 250 KB annotation into the incident and into one snapshot
    # per channel (5 copies, more than the whole tmpfs), while storing the webhook
    # takes one: the first webhook is stored and answered, and its processing fails.
    hooks = [f"hook{i}" for i in range(4)]
    cfg = {
        "channels": [{"name": h, "type": "webhook", "url": sink.url} for h in hooks],
        "default_route": {"channels": hooks},
        "storm": {"threshold": 0},
    }
    receiver = await ReceiverProcess(tmp_path, cfg, storage=small_fs / "data").start()
    stored: dict[str, int] = {}
    try:
        async with aiohttp.ClientSession() as session:
            status, doc = await post_webhook(session, receiver.url, _fat("fill0"))
            assert status == 200, doc
            stored["fill0"] = doc["webhook_id"]
            errors = 'tocsin_receiver_webhook_processing_errors_total{kind="transient"}'

            async def failed_once() -> bool:
                return await receiver.metric(errors) >= 1

            await wait_for(failed_once, 30, what="processing to fail on the full disk")
            assert await receiver.metric("tocsin_receiver_inbox_pending") == 1
            filler = _fill_up(small_fs)
            # Space the WAL file already holds is reused until it runs out too.
            for i in range(1, 20):
                status, doc = await post_webhook(session, receiver.url, _fat(f"fill{i}"))
                if status == 503:
                    break
                assert status == 200, doc
                stored[f"fill{i}"] = doc["webhook_id"]
            assert status == 503, "the full disk never refused a webhook"
            status, reason = await _ready(receiver)
            assert status == 503 and reason["field"] == "store", reason
            assert "cannot commit" in reason["error"]

            filler.unlink()
            _grow(small_fs)
            # No restart: the inbox retries on its own.
            await wait_for(
                lambda: (
                    {r.body["incident"]["group_labels"]["group"] for r in sink.received}
                    >= set(stored)
                ),
                30,
                what="a notification for every webhook answered 200",
            )

            async def settled() -> bool:
                return await receiver.metric("tocsin_receiver_inbox_pending") == 0

            await wait_for(settled, 30, what="the inbox to empty")
            states = _states(receiver.storage / "receiver.db", list(stored.values()))
            assert set(states.values()) == {"processed"}
            assert await receiver.metric("tocsin_receiver_inbox_oldest_age_seconds") == 0
            assert await receiver.metric("tocsin_receiver_webhooks_failed_processing") == 0

            async def ready_again() -> bool:
                # Readiness's own trial commits (at most one a second) find the space.
                return (await _ready(receiver))[0] == 200

            await wait_for(ready_again, 15, what="readiness after the disk recovered")
            status, _ = await post_webhook(session, receiver.url, _fat("after"))
            assert status == 200
    finally:
        receiver.stop()
        await sink.stop()


async def test_poison_row_is_set_aside_counted_and_does_not_block(tmp_path: Path) -> None:
    """A stored webhook that can never be processed (here: written by an older version
    that accepted it) is marked error, counted, logged with its correlation id, and the
    rows behind it are processed."""
    sink = await Sink().start()
    cfg = {
        "channels": [{"name": "hook", "type": "webhook", "url": sink.url}],
        "default_route": {"channels": ["hook"]},
    }
    receiver = ReceiverProcess(tmp_path, cfg)
    receiver.storage.mkdir(parents=True)
    db = receiver.storage / "receiver.db"
    await receiver.start()
    receiver.stop()
    poison = am_payload("poison", [am_alert("p")])
    poison["truncatedAlerts"] = 10**30
    rows = [
        (1.0, "cid-poison", json.dumps(poison), "received"),
        (2.0, "cid-good", json.dumps(am_payload("good", [am_alert("g")])), "received"),
    ]
    insert = "INSERT INTO webhooks (received_at, correlation_id, body, state) VALUES (?, ?, ?, ?)"
    if BACKEND.dsn is not None:
        with psycopg.connect(BACKEND.dsn) as pg:
            pg.cursor().executemany(insert.replace("?", "%s"), rows)
    else:
        conn = sqlite3.connect(db)
        conn.executemany(insert, rows)
        conn.commit()
        conn.close()
    try:
        await receiver.start()
        await receiver.incident_id("good")
        assert await receiver.metric("tocsin_receiver_webhooks_failed_processing") == 1
        permanent = 'tocsin_receiver_webhook_processing_errors_total{kind="permanent"}'
        assert await receiver.metric(permanent) == 1
        failed = [
            line
            for line in receiver.log_path.read_text().splitlines()
            if "webhook_processing_failed" in line
        ]
        assert failed and "cid-poison" in failed[0] and "truncatedAlerts" in failed[0]
    finally:
        receiver.stop()
        await sink.stop()


async def test_resolution_carries_the_resolving_webhooks_correlation_id(tmp_path: Path) -> None:
    sink = await Sink().start()
    cfg = {
        "channels": [{"name": "hook", "type": "webhook", "url": sink.url}],
        "default_route": {"channels": ["hook"]},
    }
    receiver = await ReceiverProcess(tmp_path, cfg).start()
    try:
        async with aiohttp.ClientSession() as session:
            fire = am_payload("cid", [am_alert("a"), am_alert("b")])
            status, _ = await post_webhook(session, receiver.url, fire, {"X-Request-ID": "fire-1"})
            assert status == 200
            await wait_for(lambda: len(sink.of_kind("firing")) == 1, 30, what="firing")
            update = am_payload("cid", [am_alert("a", status="resolved"), am_alert("b")])
            status, _ = await post_webhook(session, receiver.url, update, {"X-Request-ID": "upd-2"})
            assert status == 200
            await wait_for(lambda: len(sink.of_kind("firing")) == 2, 30, what="update")
            done = am_payload(
                "cid", [am_alert("a", status="resolved"), am_alert("b", status="resolved")]
            )
            status, _ = await post_webhook(session, receiver.url, done, {"X-Request-ID": "res-3"})
            assert status == 200
            await wait_for(lambda: len(sink.of_kind("resolved")) == 1, 30, what="resolved")
        firing = sink.of_kind("firing")
        assert [r.headers["X-Request-ID"] for r in firing] == ["fire-1", "upd-2"]
        resolved = sink.of_kind("resolved")[0]
        assert resolved.body["correlation_id"] == "res-3"
        assert resolved.headers["X-Request-ID"] == "res-3"
    finally:
        receiver.stop()
        await sink.stop()


async def test_webhook_limits_and_field_errors(tmp_path: Path) -> None:
    receiver = await ReceiverProcess(tmp_path, {"web": {"max_body_bytes": 4096}}).start()
    try:
        async with aiohttp.ClientSession() as session:
            big = am_payload("big", [am_alert("a", note="x" * 5000)])
            status, doc = await post_webhook(session, receiver.url, big)
            assert status == 413 and doc["field"] == "body", doc
            huge = am_payload("t", [am_alert("a")])
            huge["truncatedAlerts"] = 10**30
            status, doc = await post_webhook(session, receiver.url, huge)
            assert status == 400 and doc["field"] == "truncatedAlerts", doc
            body = b'{"version": "4", "status": "firing", "receiver": "r", "groupKey": "k",'
            body += b' "alerts": [{"status": "firing", "labels": {"alertname": "\\ud800bad"},'
            body += b' "startsAt": "2024-01-01T00:00:00Z"}]}'
            async with session.post(
                receiver.url + "/webhook/alertmanager",
                data=body,
                headers={"Content-Type": "application/json"},
            ) as r:
                doc = await r.json()
                assert r.status == 400 and doc["field"] == "alerts[0].labels.alertname", doc
            status, _ = await post_webhook(session, receiver.url, am_payload("e", [am_alert("e")]))
            assert status == 200
            iid = await receiver.incident_id("e")
            # Clocks can put endsAt before startsAt: accepted, the alert ended as it started.
            early = am_alert("e", status="resolved")
            early["endsAt"] = "2024-05-01T09:59:59Z"
            status, _ = await post_webhook(session, receiver.url, am_payload("e", [early]))
            assert status == 200

            async def resolved() -> bool:
                _, doc = await receiver.api("GET", f"/api/v1/incidents/{iid}")
                return bool(doc["state"] == "resolved")

            await wait_for(resolved, 30, what="incident resolved")
            _, doc = await receiver.api("GET", f"/api/v1/incidents/{iid}")
            assert doc["alerts"][0]["ends_at"] == doc["alerts"][0]["starts_at"]
        assert await receiver.metric("tocsin_receiver_webhooks_failed_processing") == 0
    finally:
        receiver.stop()
