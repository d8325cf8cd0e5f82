"""The intake file: ids, what a clean close deletes, and what it keeps."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from receiver.commands.config_file import default_config
from receiver.ingest.inbox import Stored, apply_stored
from receiver.model.payload import parse_payload
from receiver.pipeline.context import Context
from receiver.store.intake import intake_path
from receiver.store.sqlite import SqliteStore
from tests.integration.receiver_harness import am_alert, am_payload


def _intake_ids(db: Path) -> list[int]:
    conn = sqlite3.connect(intake_path(db))
    try:
        return [r[0] for r in conn.execute("SELECT id FROM intake ORDER BY id")]
    finally:
        conn.close()


async def test_close_deletes_only_what_is_processed(tmp_path: Path) -> None:
    db = tmp_path / "receiver.db"
    store = SqliteStore(db)
    ctx = Context.from_config(default_config())
    docs = [am_payload(f"g{i}", [am_alert(f"a{i}")]) for i in range(3)]
    ids = [await store.ingest(json.dumps(d), f"c{i}", time.time()) for i, d in enumerate(docs)]
    assert ids == [1, 2, 3]
    for webhook_id, doc in zip(ids[:2], docs[:2], strict=True):
        text = json.dumps(doc)
        job = Stored(webhook_id, time.time(), "c", text, parse_payload(doc), len(text))
        await store.write(lambda tx, job=job: apply_stored(tx, ctx, job, time.time()))
    await store.close()
    assert _intake_ids(db) == [3]

    # Reopened, the unprocessed one is still waiting and new ids continue above it.
    store = SqliteStore(db)
    try:
        waiting = await store.read(
            lambda tx: tx.all(
                "SELECT i.id FROM intake.intake i"
                " WHERE NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = i.id)"
            )
        )
        assert waiting == [{"id": 3}]
        assert await store.ingest("{}", "c", time.time()) == 4
    finally:
        await store.close()


async def test_ids_continue_above_a_main_database_newer_than_the_intake(tmp_path: Path) -> None:
    db = tmp_path / "receiver.db"
    store = SqliteStore(db)
    await store.write(
        lambda tx: tx.execute(
            "INSERT INTO webhooks (id, received_at, correlation_id, body, state)"
            " VALUES (41, 0, 'c', '', 'processed')"
        )
    )
    await store.close()
    intake_path(db).unlink()
    store = SqliteStore(db)
    try:
        assert await store.ingest("{}", "c", time.time()) == 42
    finally:
        await store.close()
