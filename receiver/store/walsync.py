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

from receiver.store.base import StoreError

log = structlog.get_logger("receiver.store")


class WalSync:
    """fdatasync of the WAL file, reopened when SQLite replaces the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._inode = -1

    def sync(self) -> None:
        """fdatasync the WAL (blocking); a new WAL file's directory is fsync'd first."""
        inode = os.stat(self.path).st_ino
        if self._fd is None or inode != self._inode:
            self.close()
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
                error = StoreError(f"could not sync the WAL: {exc}")
            for done in group:
                done(error)
        self._running = None

    async def drain(self) -> None:
        """Wait until every requested sync has run."""
        while self._running is not None:
            await asyncio.shield(self._running)
