"""WAL durability for the SQLite store: fdatasync of the WAL file, grouped.

The writer commits as NORMAL and syncs the WAL itself; commits that arrive while one
sync runs share the next one (see `receiver.store.sqlite`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import structlog

from receiver.store.base import SyncError

log = structlog.get_logger("receiver.store")


class WalSync:
    """fdatasync of the WAL file that SQLite writes to.

    The writer keeps the WAL open for as long as the store is, so SQLite never replaces
    it; a WAL (or database) file with another inode than the one first seen was removed
    or replaced under the running receiver, and commits go to the old, unlinked file.
    Syncing the new file would report them durable: that is an error instead, until the
    original files are back.
    """

    def __init__(self, path: Path, database: Path | None = None) -> None:
        self.path = path
        self.database = database
        self._fd: int | None = None
        self._inode = -1
        self._db_inode = -1

    def sync(self) -> None:
        """fdatasync the WAL (blocking); its directory is fsync'd when first opened.
        Raises OSError when the files are gone or were replaced."""
        inode = os.stat(self.path).st_ino
        if self.database is not None:
            db_inode = os.stat(self.database).st_ino
            if self._db_inode == -1:
                self._db_inode = db_inode
            elif db_inode != self._db_inode:
                raise OSError(f"{self.database} was replaced under the running receiver")
        if self._fd is not None and inode != self._inode:
            raise OSError(f"{self.path} was replaced under the running receiver")
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
            self._inode = inode
            # A new WAL file's directory entry must be durable too.
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        os.fdatasync(self._fd)

    def close(self) -> None:
        """Close the WAL file descriptor, if open."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class SyncGroup:
    """Runs WAL syncs one at a time; commits that arrive meanwhile share the next one."""

    def __init__(self, wal: WalSync) -> None:
        self.wal = wal
        self._waiting: list[Callable[[BaseException | None], None]] = []
        self._running: asyncio.Task[None] | None = None

    def after_sync(self, done: Callable[[BaseException | None], None]) -> None:
        """Call `done(error)` once a sync that started after this call has finished."""
        self._waiting.append(done)
        if self._running is None:
            self._running = asyncio.get_running_loop().create_task(self._sync_all())

    async def _sync_all(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            error: BaseException | None = None
            try:
                await asyncio.to_thread(self.wal.sync)
            except OSError as exc:
                log.error("store_sync_failed", error=str(exc), batches=len(group))
                error = SyncError(f"could not sync the WAL: {exc}")
            for done in group:
                done(error)
        self._running = None

    async def drain(self) -> None:
        """Wait until every requested sync has run."""
        while self._running is not None:
            await asyncio.shield(self._running)
