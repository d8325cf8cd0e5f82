"""The inbox against a real SQLite file: a full database is retried while running, in
order; a webhook that can never be processed is set aside without blocking the rest.

The full database is real: SQLite's `max_page_count` makes it answer SQLITE_FULL
exactly as a full disk does, without root or a small filesystem.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from receiver.commands.config_file import default_config
from receiver.ingest import inbox as inbox_module
from receiver.ingest.inbox import Inbox, Stored, is_transient
from receiver.metrics import REGISTRY
from receiver.model.payload import parse_payload
from receiver.pipeline.context import Context
from receiver.store.sqlite import SqliteStore
from tests.integration.receiver_harness import am_alert, am_payload, wait_for


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(tmp_path / "receiver.db")
    yield s
    await s.close()


def _limit_pages(store: SqliteStore, extra: int | None) -> None:
    """Cap the database at its current size plus `extra` pages (None: no cap)."""
    conn = store._writer
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + extra if extra is not None else 1 << 30}")


async def _ingest(store: SqliteStore, doc: dict[str, Any], cid: str) -> int:
    return await store.ingest(json.dumps(doc), cid, time.time())


async def _store(store: SqliteStore, doc: dict[str, Any], cid: str) -> Stored:
    text = json.dumps(doc)
    now = time.time()
    webhook_id = await store.ingest(text, cid, now)
    return Stored(webhook_id, now, cid, text, parse_payload(doc), len(text.encode()))


async def _states(store: SqliteStore) -> list[str]:
    """Each stored webhook's state: `received` while only the intake holds it."""
    rows = await store.read(
        lambda tx: tx.all(
            "SELECT COALESCE(w.state, 'received') AS state FROM intake.intake i"
            " LEFT JOIN webhooks w ON w.id = i.id ORDER BY i.id"
        )
    )
    return [r["state"] for r in rows]


def _counter(kind: str) -> float:
    value = REGISTRY.get_sample_value(
        "tocsin_receiver_webhook_processing_errors_total", {"kind": kind}
    )
    return value or 0.0


async def test_full_database_is_retried_while_running(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox_module, "RETRY_MAX", 0.5)
    ctx = Context.from_config(default_config())
    inbox = Inbox(store, ctx)
    fat = am_alert("a", note="x" * 60_000)
    docs = [am_payload(f"g{i}", [fat]) for i in range(3)]
    jobs = [await _store(store, d, f"cid-{i}") for i, d in enumerate(docs)]
    transient = _counter("transient")
    _limit_pages(store, 0)
    for job in jobs:
        inbox.submit(job)
    await wait_for(lambda: inbox.recovery is not None, 10, what="recovery mode")
    assert await _states(store) == ["received"] * 3
    await asyncio.sleep(0.6)
    assert _counter("transient") >= transient + 2, "retried with backoff, still failing"
    assert await _states(store) == ["received"] * 3
    _limit_pages(store, None)
    await wait_for(lambda: inbox.idle.is_set(), 10, what="the inbox to catch up")
    assert await _states(store) == ["processed"] * 3
    incidents = await store.read(lambda tx: tx.all("SELECT group_key FROM incidents ORDER BY id"))
    assert [r["group_key"] for r in incidents] == [d["groupKey"] for d in docs]


async def test_submissions_during_recovery_are_not_missed(store: SqliteStore) -> None:
    ctx = Context.from_config(default_config())
    inbox = Inbox(store, ctx)
    first = am_payload("first", [am_alert("a", note="x" * 60_000)])
    job = await _store(store, first, "c1")
    _limit_pages(store, 0)
    inbox.submit(job)
    await wait_for(lambda: inbox.recovery is not None, 10, what="recovery mode")
    _limit_pages(store, None)
    later = am_payload("later", [am_alert("b")])
    inbox.submit(await _store(store, later, "c2"))
    await wait_for(lambda: inbox.idle.is_set(), 10, what="the inbox to catch up")
    assert await _states(store) == ["processed", "processed"]
    assert inbox.recovery is None and not inbox.pending


async def test_poison_row_is_set_aside_and_the_rest_processed(store: SqliteStore) -> None:
    ctx = Context.from_config(default_config())
    inbox = Inbox(store, ctx)
    poison = am_payload("poison", [am_alert("p")])
    poison["truncatedAlerts"] = 10**30  # accepted by an older version; refused now
    await _ingest(store, poison, "cid-poison")
    await _ingest(store, am_payload("good", [am_alert("g")]), "cid-good")
    permanent = _counter("permanent")
    assert await inbox.replay() == 2
    assert await _states(store) == ["error", "processed"]
    error = await store.read(lambda tx: tx.one("SELECT error FROM webhooks WHERE id = 1"))
    assert error is not None and "truncatedAlerts" in error["error"]
    assert _counter("permanent") == permanent + 1


def test_transient_means_storage_trouble_only() -> None:
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = 13
    toobig = sqlite3.DataError("string or blob too big")
    toobig.sqlite_errorcode = 18
    assert is_transient(full) and is_transient(OSError(28, "No space left on device"))
    assert not is_transient(toobig)
    assert not is_transient(OverflowError("Python int too large to convert to SQLite INTEGER"))
