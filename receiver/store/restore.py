"""Install a backup as the store's database, only when nothing is using it.

Order matters, so that a refusal leaves everything as it was: the backup is checked
against its SHA-256 file before anything is touched; then the database lock is taken
(a running receiver holds it, so restore refuses, `force` or not); then the backup is
copied beside the database, the copy's hash compared again (the source could change
between the check and the copy) and its integrity checked; only then are the old
database's WAL files removed and the copy renamed over it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from receiver.store.backup import check_database, db_path, sync_dir
from receiver.store.checksum import ChecksumError
from receiver.store.checksum import verify as verify_checksum
from receiver.store.lock import DatabaseLock

_CHUNK = 1 << 20


def restore(source: Path, storage: Path, force: bool = False, checksum: bool = True) -> Path:
    """Install `source` as the database of `storage`; returns the database path.

    Raises ChecksumError (missing or mismatching `<source>.sha256`; `checksum=False`
    skips the check for backups made without one), InvalidBackup, StoreLocked (a
    receiver or another restore holds the database), FileExistsError (a database
    exists and `force` is not set) or OSError.
    """
    if not source.is_file():
        raise FileNotFoundError(f"no backup file {source}")
    expected = verify_checksum(source) if checksum else None
    target = db_path(storage)
    with DatabaseLock(target):
        if target.exists() and not force:
            raise FileExistsError(f"{target} exists; pass --force to replace it")
        tmp = target.with_name(target.name + ".restore")
        try:
            digest = _copy(source, tmp)
            if expected is not None and digest != expected:
                raise ChecksumError(f"{source} changed while it was being restored; try again")
            check_database(tmp)
            # A WAL left by the old database must not be replayed into the new one.
            for suffix in ("-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            tmp.replace(target)
            sync_dir(target.parent)
        finally:
            # Checking a WAL-mode backup (made before backups left WAL) adds these.
            for leftover in ("", "-wal", "-shm"):
                Path(f"{tmp}{leftover}").unlink(missing_ok=True)
    return target


def _copy(source: Path, target: Path) -> str:
    """Copy and hash in one pass (the bytes hashed are the bytes installed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    return digest.hexdigest()
