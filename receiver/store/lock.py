"""The database lock: whoever holds it owns the SQLite file (a receiver or a restore).

An exclusive `flock` on `<database>.lock`, taken without waiting. The kernel drops it
when the holder exits, however it exits, so a crashed receiver never leaves a stale
lock. `flock` (not `fcntl`/`lockf` record locks) because record locks belong to the
whole process and vanish when any descriptor of the file is closed; within a process
the lock is shared by reference count instead, so a store reopened in the same process
(a reload, the tests) does not lock itself out.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
from pathlib import Path

from receiver.store.base import StoreError

_held: dict[Path, tuple[int, int]] = {}  # lock file -> (descriptor, holders in this process)
_guard = threading.Lock()


class StoreLocked(StoreError, BlockingIOError):
    """Another process holds the database lock (a BlockingIOError, so callers that
    report OS errors report this one too)."""

    def __init__(self, database: Path, holder: int | None) -> None:
        who = f"process {holder}" if holder else "another process"
        message = f"{database} is in use by {who} (a running receiver or a restore)"
        super().__init__(errno.EWOULDBLOCK, message)
        self.database = database
        self.holder = holder

    def __str__(self) -> str:
        return str(self.strerror)


def lock_path(database: Path) -> Path:
    """The lock file beside a database file."""
    return database.with_name(database.name + ".lock")


def holder_pid(database: Path) -> int | None:
    """The pid the current holder wrote into the lock file, if readable."""
    try:
        text = lock_path(database).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


class DatabaseLock:
    """The lock on one database file, held from `acquire()` until `release()`."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = lock_path(database).resolve()
        self._held = False

    def acquire(self) -> DatabaseLock:
        """Take the lock without waiting; raises StoreLocked when another process has it."""
        with _guard:
            if self.path in _held:
                fd, count = _held[self.path]
                _held[self.path] = (fd, count + 1)
            else:
                _held[self.path] = (self._lock_file(), 1)
        self._held = True
        return self

    def release(self) -> None:
        """Give the lock back; the last holder in this process unlocks the file."""
        if not self._held:
            return
        self._held = False
        with _guard:
            fd, count = _held[self.path]
            if count > 1:
                _held[self.path] = (fd, count - 1)
                return
            del _held[self.path]
        os.close(fd)  # closing the only descriptor releases the flock

    def _lock_file(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreLocked(self.database, holder_pid(self.database)) from None
        except BaseException:
            os.close(fd)
            raise
        # The pid is only for messages; the flock, not the file's content, is the lock.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        return fd

    def __enter__(self) -> DatabaseLock:
        return self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()
