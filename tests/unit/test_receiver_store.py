"""The SQLite store: group commit, savepoint isolation, migrations, backup and restore."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from receiver.store.backup import backup, db_path, restore
from receiver.store.base import Tx
from receiver.store.sqlite import SqliteStore


async def test_concurrent_writes_share_commits(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "receiver.db")
    try:

        def job(i: int) -> int:
            def run(tx: Tx) -> int:
                return tx.execute(
                    "INSERT INTO audit (at, actor, role, action, target, detail, correlation_id)"
                    " VALUES (?, 'a', 'admin', 'x', ?, '{}', '')",
                    (float(i), str(i)),
                )

            return run  # type: ignore[return-value]

        before = store.batches
        ids = await asyncio.gather(*(store.write(job(i)) for i in range(200)))
        assert len(set(ids)) == 200
        assert store.batches - before < 200, "concurrent writes were not grouped"
        count = await store.read(lambda tx: tx.one("SELECT COUNT(*) AS n FROM audit"))
        assert count == {"n": 200}
    finally:
        await store.close()


async def test_a_failing_job_does_not_sink_its_batch(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "receiver.db")
    try:

        def good(tx: Tx) -> None:
            tx.execute(
                "INSERT INTO audit (at, actor, role, action, target, detail,"
                " correlation_id) VALUES (1, 'a', 'r', 'ok', 't', '{}', '')"
            )

        def bad(tx: Tx) -> None:
            good(tx)
            raise RuntimeError("boom")

        results = await asyncio.gather(
            store.write(good), store.write(bad), store.write(good), return_exceptions=True
        )
        assert isinstance(results[1], RuntimeError)
        n = await store.read(lambda tx: tx.one("SELECT COUNT(*) AS n FROM audit"))
        assert n == {"n": 2}
    finally:
        await store.close()


async def test_backup_and_restore(tmp_path: Path) -> None:
    storage = tmp_path / "live"
    store = SqliteStore(db_path(storage))
    await store.write(
        lambda tx: tx.execute(
            "INSERT INTO audit (at, actor, role, action, target, detail, correlation_id)"
            " VALUES (1, 'alice', 'admin', 'ack', 'incident/1', '{}', 'c1')"
        )
    )
    backup(storage, tmp_path / "b.db")  # online, while the store is open
    await store.close()
    restored = tmp_path / "restored"
    restore(tmp_path / "b.db", restored)
    with pytest.raises(FileExistsError):
        restore(tmp_path / "b.db", restored)
    again = SqliteStore(db_path(restored))
    try:
        row = await again.read(lambda tx: tx.one("SELECT actor FROM audit"))
        assert row == {"actor": "alice"}
    finally:
        await again.close()
    (tmp_path / "junk.db").write_bytes(b"not a database")
    with pytest.raises(ValueError):
        restore(tmp_path / "junk.db", tmp_path / "other")


async def test_migrations_are_recorded(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "receiver.db")
    await store.close()
    conn = sqlite3.connect(tmp_path / "receiver.db")
    assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] >= 1
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
