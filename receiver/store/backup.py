"""Online backups of the SQLite store, each verified and written with its SHA-256 file.

A backup is made with SQLite's online backup API (consistent while the receiver runs)
into a temporary file, turned into a single self-contained file (rollback journal, not
WAL, so the bytes the checksum covers are the whole database), checked with
`PRAGMA integrity_check`, given its `<file>.sha256`, and only then renamed into place.
In a directory, backups are named by their UTC time so names sort by age, and
`keep` prunes the oldest only once the new one has been read back and matched its
checksum: a failing backup never costs an old one.
"""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from receiver.store.checksum import checksum_path, sha256_of, verify, write_checksum

DB_NAME = "receiver.db"
_STAMPED = re.compile(r"receiver-\d{8}T\d{6}\.\d{6}Z\.db")


class InvalidBackup(ValueError):
    """The file is not an intact tocsin receiver database."""


def db_path(storage: Path) -> Path:
    """Where the database lives under a storage path."""
    return storage / DB_NAME


def check_database(file: Path) -> None:
    """Raise InvalidBackup unless `file` is an intact SQLite database holding our schema."""
    try:
        conn = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise InvalidBackup(f"{file} cannot be opened as a database: {exc}") from None
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()
        conn.execute("SELECT COUNT(*) FROM incidents").fetchone()
    except sqlite3.DatabaseError as exc:
        raise InvalidBackup(f"{file} is not a tocsin receiver database: {exc}") from None
    finally:
        conn.close()
    if not ok or ok[0] != "ok":
        raise InvalidBackup(f"{file} failed SQLite's integrity check: {ok}")


def backup(storage: Path, target: Path) -> str:
    """Back the database at `storage` up to `target` (and `target`.sha256); returns the
    SHA-256. Raises FileNotFoundError without a database, FileExistsError when `target`
    exists, InvalidBackup when the copy does not check out, OSError/sqlite3.Error."""
    source = db_path(storage)
    if not source.exists():
        raise FileNotFoundError(f"no database at {source}")
    if target.exists():
        raise FileExistsError(f"{target} exists; choose another name or remove it first")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        _online_copy(source, tmp)
        check_database(tmp)
        digest = sha256_of(tmp)
        # The checksum goes first: a backup file present means its checksum is too.
        write_checksum(target, digest)
        tmp.replace(target)
        sync_dir(target.parent)
    finally:
        tmp.unlink(missing_ok=True)
    verify(target)
    return digest


def backup_into(storage: Path, directory: Path, keep: int | None = None) -> tuple[Path, list[Path]]:
    """A new time-stamped backup in `directory`; then, with `keep`, the oldest backups
    beyond the newest `keep` are removed. Returns (the new backup, the removed ones)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    target = directory / f"receiver-{stamp}.db"
    backup(storage, target)
    removed = prune_backups(directory, keep) if keep is not None else []
    return target, removed


def list_backups(directory: Path) -> list[Path]:
    """The time-stamped backups in `directory`, oldest first."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if _STAMPED.fullmatch(p.name))


def prune_backups(directory: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` time-stamped backups (with their checksums)."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    old = list_backups(directory)[:-keep]
    for file in old:
        file.unlink(missing_ok=True)
        checksum_path(file).unlink(missing_ok=True)
    return old


def _online_copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(str(source))
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)
        # Out of WAL mode: the backup must be one file, complete without a -wal beside it.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()
    with target.open("rb+") as f:
        os.fsync(f.fileno())


def sync_dir(directory: Path) -> None:
    """fsync a directory, so a rename into it survives a power cut."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
