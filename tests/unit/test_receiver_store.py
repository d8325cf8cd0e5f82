"""The SQLite store: group commit, savepoint isolation, migrations, backup and restore,
the database lock."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from receiver.store.backup import InvalidBackup, backup, db_path
from receiver.store.base import StoreError, Tx
from receiver.store.checksum import ChecksumError, MissingChecksum, checksum_path
from receiver.store.lock import DatabaseLock, StoreLocked
from receiver.store.restore import restore
from receiver.store.sqlite import SqliteStore
from tests.procs import REPO


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
    digest = backup(storage, tmp_path / "b.db")  # online, while the store is open
    await store.close()
    assert checksum_path(tmp_path / "b.db").read_text() == f"{digest}  b.db\n"
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
    with pytest.raises(MissingChecksum):
        restore(tmp_path / "junk.db", tmp_path / "other")
    with pytest.raises(InvalidBackup):
        restore(tmp_path / "junk.db", tmp_path / "other", checksum=False)
    assert not (tmp_path / "other" / "receiver.db").exists()


async def test_restore_checks_the_checksum_before_touching_anything(tmp_path: Path) -> None:
    storage = tmp_path / "live"
    await SqliteStore(db_path(storage)).close()
    backup(storage, tmp_path / "b.db")
    data = bytearray((tmp_path / "b.db").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "b.db").write_bytes(bytes(data))
    before = db_path(storage).read_bytes()
    with pytest.raises(ChecksumError, match="does not match"):
        restore(tmp_path / "b.db", storage, force=True)
    assert db_path(storage).read_bytes() == before
    checksum_path(tmp_path / "b.db").write_text("not a checksum\n")
    with pytest.raises(ChecksumError, match="not a sha256sum line"):
        restore(tmp_path / "b.db", storage, force=True)


def _try_lock_elsewhere(database: Path) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys; from pathlib import Path; from receiver.store.lock import DatabaseLock\n"
        "try:\n    DatabaseLock(Path(sys.argv[1])).acquire()\n"
        "except OSError as e:\n    print(e); sys.exit(3)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(database)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_an_open_store_holds_the_database_lock(tmp_path: Path) -> None:
    database = tmp_path / "receiver.db"
    store = SqliteStore(database)
    # In the same process the lock is shared (a reload may open a second store).
    second = SqliteStore(database)
    await second.close()
    other = await asyncio.to_thread(_try_lock_elsewhere, database)
    assert other.returncode == 3, other.stderr
    assert f"{database} is in use by process " in other.stdout
    await store.close()
    other = await asyncio.to_thread(_try_lock_elsewhere, database)
    assert other.returncode == 0, other.stdout + other.stderr


def test_a_lock_held_elsewhere_stops_a_store_from_opening(tmp_path: Path) -> None:
    database = tmp_path / "receiver.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from receiver.store.lock import DatabaseLock\n"
            "DatabaseLock(Path(sys.argv[1])).acquire(); print('held', flush=True);"
            " sys.stdin.read()",
            str(database),
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(StoreLocked, match=f"process {holder.pid}"):
            SqliteStore(database)
        with pytest.raises(StoreLocked), DatabaseLock(database):
            pass
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(30)
    with DatabaseLock(database):
        pass


async def test_migrations_are_recorded(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "receiver.db")
    await store.close()
    conn = sqlite3.connect(tmp_path / "receiver.db")
    assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] >= 1
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


async def test_a_failed_read_is_a_store_error(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "receiver.db")
    try:
        with pytest.raises(StoreError, match="read failed: no such table"):
            await store.read(lambda tx: tx.all("SELECT * FROM no_such_table"))
        # The reader connection is still usable afterwards.
        assert await store.read(lambda tx: tx.one("SELECT 1 AS one")) == {"one": 1}
    finally:
        await store.close()
