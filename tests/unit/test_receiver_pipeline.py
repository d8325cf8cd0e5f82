"""The in-transaction pipeline against a real SQLite file: dedup, staleness, retention."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from receiver.commands.config_file import default_config
from receiver.model.payload import parse_payload
from receiver.model.snapshot import incident_snapshot, incident_snapshot_text
from receiver.pipeline.context import Context
from receiver.pipeline.stages import process
from receiver.pipeline.work import Outcome
from receiver.store.base import Tx
from receiver.store.retention import prune
from receiver.store.sqlite import SqliteStore
from tests.integration.receiver_harness import am_alert, am_payload


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(tmp_path / "receiver.db")
    yield s
    await s.close()


async def _send(store: SqliteStore, ctx: Context, doc: dict[str, object]) -> Outcome:
    payload = parse_payload(doc)
    return await store.write(lambda tx: process(tx, ctx, payload, "cid", time.time()))


async def test_dedup_staleness_and_retention(store: SqliteStore) -> None:
    ctx = Context.from_config(default_config())
    first = await _send(store, ctx, am_payload("g", [am_alert("a"), am_alert("b")]))
    assert first.created and len(first.notifications) == 1
    again = await _send(store, ctx, am_payload("g", [am_alert("a"), am_alert("b")]))
    assert again.duplicates == 2 and not again.notifications
    one_resolved = await _send(
        store, ctx, am_payload("g", [am_alert("a", status="resolved"), am_alert("b")])
    )
    assert one_resolved.new_events == 1 and len(one_resolved.notifications) == 1
    # A late firing copy of an alert that has resolved (same startsAt) is stale.
    stale = await _send(store, ctx, am_payload("g", [am_alert("a")]))
    assert stale.duplicates == 1 and not stale.notifications
    done = await _send(store, ctx, am_payload("g", [am_alert("b", status="resolved")]))
    state = await store.read(
        lambda tx: tx.one("SELECT state FROM incidents WHERE id = ?", (first.incident_id,))
    )
    assert state == {"state": "resolved"} and len(done.notifications) == 1
    # Fires again with a new startsAt: a new incident for the same group.
    refire = await _send(
        store, ctx, am_payload("g", [am_alert("a", starts="2024-05-02T10:00:00Z")])
    )
    assert refire.created and refire.incident_id != first.incident_id
    unknown = await _send(store, ctx, am_payload("x", [am_alert("z", status="resolved")]))
    assert unknown.incident_id is None and unknown.duplicates == 1

    assert not await store.write(lambda tx: prune(tx, time.time() - 3600))
    pruned = await store.write(lambda tx: prune(tx, time.time() + 1))
    assert pruned.incidents == 1
    left = await store.read(lambda tx: tx.all("SELECT id FROM incidents"))
    assert left == [{"id": refire.incident_id}]
    orphans = await store.read(
        lambda tx: tx.one(
            "SELECT COUNT(*) AS n FROM notifications WHERE incident_id = ?", (first.incident_id,)
        )
    )
    assert orphans == {"n": 0}


async def test_snapshot_text_matches_snapshot(store: SqliteStore) -> None:
    ctx = Context.from_config(default_config())
    out = await _send(store, ctx, am_payload("q", [am_alert("a", note='quote " and \\ ü')]))
    assert out.incident_id is not None
    iid = out.incident_id
    text, _ = await store.read(lambda tx: incident_snapshot_text(tx, iid))
    doc = await store.read(lambda tx: incident_snapshot(tx, iid))
    assert json.loads(text) == doc


async def test_retention_prunes_processed_webhooks_without_any_incident_due(
    store: SqliteStore,
) -> None:
    now = time.time()

    def webhooks(tx: Tx) -> None:
        for state in ("processed", "error", "received"):
            tx.execute(
                "INSERT INTO webhooks (received_at, correlation_id, body, state)"
                " VALUES (?, 'c', '{}', ?)",
                (now - 7200, state),
            )
        tx.execute(
            "INSERT INTO webhooks (received_at, correlation_id, body, state)"
            " VALUES (?, 'c', '{}', 'processed')",
            (now,),
        )

    await store.write(webhooks)
    pruned = await store.write(lambda tx: prune(tx, now - 3600))
    assert (pruned.incidents, pruned.webhooks) == (0, 1)
    left = await store.read(lambda tx: tx.all("SELECT state FROM webhooks ORDER BY id"))
    # Set aside or never processed: kept whatever their age. Newer than the cutoff: kept.
    assert [r["state"] for r in left] == ["error", "received", "processed"]
    assert not await store.write(lambda tx: prune(tx, now - 3600))
