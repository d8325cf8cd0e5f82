"""Online backup and restore of the SQLite store.

Backup uses SQLite's online backup API, so it is consistent while the receiver runs.
Restore is a file copy into a storage path the receiver is not using: stop the
receiver, run `tocsin-receiver restore --from FILE --storage.path DIR`, start it.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

DB_NAME = "receiver.db"


def db_path(storage: Path) -> Path:
    """Where the database lives under a storage path."""
    return storage / DB_NAME


def backup(storage: Path, target: Path) -> None:
    """Copy the live database at `storage` to `target`."""
    source = db_path(storage)
    if not source.exists():
        raise FileNotFoundError(f"no database at {source}")
    backup_file(source, target)


def restore(source: Path, storage: Path, force: bool = False) -> Path:
    """Install a backup as the database of `storage` (receiver must be stopped)."""
    conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()
        conn.execute("SELECT COUNT(*) FROM incidents").fetchone()
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"{source} is not a tocsin receiver backup: {exc}") from None
    finally:
        conn.close()
    if not ok or ok[0] != "ok":
        raise ValueError(f"{source} failed the integrity check: {ok}")
    target = db_path(storage)
    if target.exists() and not force:
        raise FileExistsError(f"{target} exists; stop the receiver and pass --force to replace it")
    storage.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    tmp = target.with_suffix(".restore")
    shutil.copyfile(source, tmp)
    tmp.replace(target)
    return target


def backup_file(source: Path, target: Path) -> None:
    """Online backup of `source` to `target` (safe while the receiver runs)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(str(source))
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
