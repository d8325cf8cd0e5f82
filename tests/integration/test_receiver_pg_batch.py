"""The PostgreSQL writer's batches (store/pgbatch.py) on a real server: several jobs in
one transaction with one reused savepoint, and `synchronous_commit = off` only for a
batch in which no job asked for a durable commit, and `executemany` of an insert as
multi-row statements."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from receiver.store.base import Tx
from receiver.store.postgres import PostgresStore
from receiver.store.sqlite import SqliteStore
from tests.postgres import Cluster


def _insert(tag: str) -> object:
    def run(tx: Tx) -> None:
        tx.execute(
            "INSERT INTO audit (at, actor, role, action, target, detail, correlation_id)"
            " VALUES (1, 'a', 'admin', ?, 't', '{}', '')",
            (tag,),
        )

    return run


def _failing(tag: str) -> object:
    def run(tx: Tx) -> None:
        _insert(tag)(tx)  # type: ignore[operator]
        raise RuntimeError("boom")

    return run


def _commit_mode(tx: Tx) -> str:
    row = tx.one("SHOW synchronous_commit")
    assert row is not None
    return str(row["synchronous_commit"])


async def test_failing_jobs_roll_back_alone_and_the_savepoint_is_reused(
    pg_cluster: Cluster,
) -> None:
    store = await PostgresStore.open(pg_cluster.create_database(), pool_size=2)
    try:
        jobs = [_failing(f"bad{i}") if i % 3 == 1 else _insert(f"ok{i}") for i in range(30)]
        before = store.batches
        results = await asyncio.gather(
            *(store.write(j) for j in jobs),  # type: ignore[arg-type]
            return_exceptions=True,
        )
        assert store.batches - before < 30, "the jobs were not grouped"
        assert [isinstance(r, RuntimeError) for r in results] == [i % 3 == 1 for i in range(30)]
        rows = await store.read(lambda tx: tx.all("SELECT action FROM audit ORDER BY id"))
        assert [r["action"] for r in rows] == [f"ok{i}" for i in range(30) if i % 3 != 1]
    finally:
        await store.close()


async def test_only_a_batch_of_non_durable_jobs_skips_the_wal_flush(pg_cluster: Cluster) -> None:
    store = await PostgresStore.open(pg_cluster.create_database(), pool_size=2)
    try:
        assert await store.write(_commit_mode, durable=False) == "off"
        assert await store.write(_commit_mode) == "on"
        together = await asyncio.gather(
            *(store.write(_commit_mode, durable=False) for _ in range(5))
        )
        assert together == ["off"] * 5
        mixed = await asyncio.gather(
            store.write(_commit_mode, durable=False),
            store.write(_commit_mode),
            store.write(_commit_mode, durable=False),
        )
        assert mixed == ["on"] * 3, "a durable job's batch must wait for the flush"
        # SET LOCAL ends with its transaction: the pool's connections are left as they were.
        assert await store.read(_commit_mode) == "on"
        assert await store.write(_commit_mode) == "on"
    finally:
        await store.close()


async def test_held_back_statements_run_in_order_and_fail_their_own_job(
    pg_cluster: Cluster,
) -> None:
    """`executemany` in a writer job is sent with the job's next statement (or at its
    end): later reads see it, and an error in it fails that job, not its batch."""
    store = await PostgresStore.open(pg_cluster.create_database(), pool_size=2)
    insert = (
        "INSERT INTO audit (id, at, actor, role, action, target, detail, correlation_id)"
        " VALUES (?, 1, 'a', 'admin', ?, 't', '{}', '')"
    )
    try:

        def seen_by_the_next_read(tx: Tx) -> int:
            tx.executemany(insert, [(1, "one"), (2, "two")])
            row = tx.one("SELECT COUNT(*) AS n FROM audit")
            assert row is not None
            return int(row["n"])

        def duplicate_at_the_end(tx: Tx) -> None:
            tx.executemany(insert, [(1, "again")])

        def fine(tx: Tx) -> None:
            tx.executemany(insert, [(3, "three")])

        assert await store.write(seen_by_the_next_read) == 2
        results = await asyncio.gather(
            store.write(fine),
            store.write(duplicate_at_the_end),
            store.write(fine),
            return_exceptions=True,
        )
        assert results[0] is None
        assert "duplicate key" in str(results[1])
        assert "duplicate key" in str(results[2]), "the same id 3 twice"
        rows = await store.read(lambda tx: tx.all("SELECT action FROM audit ORDER BY id"))
        assert [r["action"] for r in rows] == ["one", "two", "three"]
    finally:
        await store.close()


async def test_upserts_of_many_rows_give_what_row_by_row_upserts_give(
    pg_cluster: Cluster, tmp_path: Path
) -> None:
    """`executemany` of an insert goes as multi-row INSERTs on PostgreSQL
    (store/pgmultirow.py): a key met twice keeps its last copy, an upsert that reads the
    old row is not rewritten, and rows beyond one statement's parameter limit are split;
    SQLite, which runs them row by row, is the reference."""
    upsert = (
        "INSERT INTO alert_episodes (incident_key, fingerprint, status, starts_ts, ends_ts,"
        " incident_id) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (incident_key, fingerprint)"
        " DO UPDATE SET status = excluded.status, starts_ts = excluded.starts_ts,"
        " ends_ts = excluded.ends_ts, incident_id = excluded.incident_id"
    )
    counting = (
        "INSERT INTO alert_episodes (incident_key, fingerprint, status, starts_ts, ends_ts,"
        " incident_id) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (incident_key, fingerprint)"
        " DO UPDATE SET incident_id = alert_episodes.incident_id + 1"
    )
    copies = [("k", "a", "firing", 1.0, None, 1), ("k", "b", "firing", 2.0, None, 1)]
    copies += [("k", "a", "resolved", 1.0, 3.0, 2)]
    many = [("m", f"f{i}", "firing", float(i), None, i) for i in range(3000)]

    def run(tx: Tx) -> list[Any]:
        tx.executemany(upsert, copies)
        tx.executemany(counting, [("k", "b", "firing", 9.0, None, 0)] * 3)
        tx.executemany(upsert, many)
        return tx.all(
            "SELECT incident_key, fingerprint, status, starts_ts, ends_ts, incident_id"
            " FROM alert_episodes ORDER BY incident_key, fingerprint"
        )

    pg = await PostgresStore.open(pg_cluster.create_database(), pool_size=2)
    sqlite = SqliteStore(tmp_path / "reference.db", "NORMAL")
    try:
        got, reference = await pg.write(run), await sqlite.write(run)
    finally:
        await pg.close()
        await sqlite.close()
    assert got == reference
    assert len(got) == 3002
    assert got[0] == {
        "incident_key": "k",
        "fingerprint": "a",
        "status": "resolved",
        "starts_ts": 1.0,
        "ends_ts": 3.0,
        "incident_id": 2,
    }
    assert got[1]["incident_id"] == 4, "three increments of the row-reading upsert"
