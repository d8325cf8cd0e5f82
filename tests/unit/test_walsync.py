"""The WAL sync refuses to call commits durable once the files were removed or replaced
under the running store, and works again once the original files are back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from receiver.store.walsync import WalSync


def test_replaced_or_missing_files_fail_the_sync_until_the_originals_are_back(
    tmp_path: Path,
) -> None:
    db, wal = tmp_path / "receiver.db", tmp_path / "receiver.db-wal"
    db.write_bytes(b"db")
    wal.write_bytes(b"wal")
    sync = WalSync(wal, db)
    sync.sync()
    os.rename(wal, tmp_path / "wal.away")
    with pytest.raises(FileNotFoundError):
        sync.sync()
    wal.write_bytes(b"a new, empty WAL")  # another inode: not the file SQLite writes
    with pytest.raises(OSError, match="replaced"):
        sync.sync()
    os.replace(tmp_path / "wal.away", wal)
    sync.sync()
    os.rename(db, tmp_path / "db.away")
    db.write_bytes(b"a copy")
    with pytest.raises(OSError, match="replaced"):
        sync.sync()
    os.replace(tmp_path / "db.away", db)
    sync.sync()
    sync.close()
