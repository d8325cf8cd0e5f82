"""Follow a growing log file across rotation, truncation and restarts without losing lines.

A `FileFollower` polls one path. It hands its sink whole lines only (a chunk of text that
ends in a newline); a partial last line stays in the file until its newline arrives. It
survives:

- rotation by rename (and a moved directory): the old file is drained through its open
  descriptor, and kept open for `rotate_wait` in case the writer has not reopened yet,
  while the new file is read from its start;
- copytruncate: the file shrinks below the read offset, or its first bytes change
  (truncated and regrown past the offset), so reading restarts at 0;
- a file absent at start, or deleted and recreated: a file that appears is read from 0;
- a path that is not a regular file (a FIFO, device, socket or directory): it is never
  opened (a FIFO would block, a device never ends) and is reported as unreadable;
- a line longer than `max_line_bytes`: its head is handed on, cut there, and the rest of
  it skipped up to its newline (`long_lines` counts them);
- a restart: the position (device, inode, offset and a hash of the first bytes) is
  persisted after every read, atomically (temp file + rename), and restored on start. If
  the file was rotated while we were down, the rotated file is found by its inode in the
  same directory and its tail is read before the new file.

Problems are reported when they start and when they end, never on every poll: a path that
is missing (`follow_file_missing`, warning) or cannot be opened (`follow_file_unreadable`,
warning), and a position that cannot be persisted (`follow_state_write_failed`, error).
`present` and `state_write_errors` let the collectors export the same facts. A path that
vanishes while a file is open counts as missing only after `rotate_wait`, so a rename
rotation (the writer creates the new file a moment later) stays quiet.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import structlog

from exporter.follow.chunks import take_lines
from exporter.follow.positions import (
    STATE_VERSION,
    end_of_last_line,
    head_hash,
    position_writer,
)
from exporter.follow.sink import LineSink
from exporter.regularfile import file_kind
from exporter.statefile import read_json

log = structlog.get_logger(__name__)

StartAt = Literal["beginning", "end"]

HEAD_BYTES = 1024
# nginx and Apache refuse request lines over 8 KiB by default; a log line several times
# that is garbage or an attack, and is cut here rather than held and parsed whole.
DEFAULT_MAX_LINE_BYTES = 64 << 10
_MISSING_ERRNOS = frozenset([errno.ENOENT, errno.ENOTDIR])


@dataclass
class _Open:
    """An open file and how far into it we have handed lines on."""

    fd: int
    dev: int
    ino: int
    offset: int
    head_len: int = 0
    head_hash: str = ""
    last_data: float = 0.0
    # Inside an over-long line whose head was handed on: drop bytes up to its newline.
    skipping: bool = False


class FileFollower:
    """Follows one path across rotations; `poll()` reads everything new and returns."""

    def __init__(
        self,
        path: Path,
        sink: LineSink,
        state_file: Path | None = None,
        *,
        start_at: StartAt = "end",
        poll_interval: float = 0.25,
        rotate_wait: float = 5.0,
        chunk_bytes: int = 1 << 20,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        self.path = path
        self.sink = sink
        self.state_file = state_file
        self.start_at = start_at
        self.poll_interval = poll_interval
        self.rotate_wait = rotate_wait
        self.chunk_bytes = max(chunk_bytes, max_line_bytes)
        self.max_line_bytes = max_line_bytes
        self.rotations = 0
        self.truncations = 0
        self.read_errors = 0
        self.long_lines = 0
        self._state = position_writer(state_file)
        self._problem: str | None = None
        self._open_problem: str | None = None
        self._missing_since: float | None = None
        self._cur: _Open | None = None
        self._old: list[_Open] = []
        self._lock = threading.Lock()
        self._first_poll = True
        self._saved: dict[str, Any] | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        if state_file is not None:
            saved = read_json(state_file)
            if saved and saved.get("version") == STATE_VERSION:
                self._saved = saved

    async def start(self) -> None:
        """Start polling in the background."""
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name=f"follow:{self.path}")

    async def stop(self) -> None:
        """Stop after the current read, persist the position and close the files."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
        await asyncio.to_thread(self.close)

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.to_thread(self.poll)
            except Exception as exc:  # a follower must outlive any one bad read
                self.read_errors += 1
                log.error("follow_failed", path=str(self.path), error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.poll_interval)

    def poll(self) -> int:
        """Hand every complete new line to the sink; returns the number of bytes consumed."""
        with self._lock:
            return self._poll()

    def close(self) -> None:
        """Persist the position and close every open file."""
        with self._lock:
            self._save()
            for o in [*self._old, *([self._cur] if self._cur else [])]:
                os.close(o.fd)
            self._old.clear()
            self._cur = None

    @property
    def offset(self) -> int:
        """The read offset in the current file (0 when none is open)."""
        return self._cur.offset if self._cur else 0

    @property
    def present(self) -> bool:
        """False while the path is missing or cannot be opened (as of the last poll)."""
        return self._problem is None

    @property
    def state_write_errors(self) -> int:
        """Failed attempts to persist the read position."""
        return self._state.errors

    def _poll(self) -> int:
        now = time.monotonic()
        consumed = 0
        st, stat_error = _stat_or_error(self.path)
        problem = self._stat_problem(stat_error, now)
        if st is not None and not stat.S_ISREG(st.st_mode):
            # Never opened: a FIFO would block the open, a device never ends.
            self.read_errors += 1
            problem = f"unreadable: not a regular file but a {file_kind(st.st_mode)}"
            st = None
        cur = self._cur
        if cur is None:
            if st is not None:
                consumed += self._open_first(st, now)
        elif st is not None and (st.st_dev, st.st_ino) != (cur.dev, cur.ino):
            consumed += self._drain(cur, now)
            cur.last_data = now
            self._old.append(cur)
            self.rotations += 1
            log.info("follow_rotated", path=str(self.path))
            self._cur = None
            self._open_at(0, now)
        cur = self._cur
        if st is not None and cur is None:
            problem = self._open_problem or "unreadable"
        if cur is not None:
            self._check_truncated(cur)
            consumed += self._drain(cur, now)
        for old in list(self._old):
            consumed += self._drain(old, now)
            if now - old.last_data >= self.rotate_wait:
                os.close(old.fd)
                self._old.remove(old)
        if consumed or self._first_poll:
            self._save()
        self._first_poll = False
        self._report(problem)
        return consumed

    def _stat_problem(self, error: OSError | None, now: float) -> str | None:
        """What is wrong with the path itself, if anything (None while it exists)."""
        self._open_problem = None
        if error is None:
            self._missing_since = None
            return None
        if error.errno not in _MISSING_ERRNOS:
            self.read_errors += 1
            return f"unreadable: {error.strerror or error}"
        if self._missing_since is None:
            self._missing_since = now
        # A rename rotation leaves the path missing until the writer creates the new file.
        if self._cur is not None and now - self._missing_since < self.rotate_wait:
            return self._problem
        return "missing"

    def _report(self, problem: str | None) -> None:
        """Log a problem with the path when it starts or changes, and when it clears."""
        if problem == self._problem:
            return
        previous, self._problem = self._problem, problem
        if problem is None:
            log.info("follow_file_available", path=str(self.path), was=previous)
        elif problem == "missing":
            log.warning(
                "follow_file_missing",
                path=str(self.path),
                hint="nothing is read until it appears; check the configured path",
            )
        else:
            log.warning("follow_file_unreadable", path=str(self.path), error=problem)

    def _open_first(self, st: os.stat_result, now: float) -> int:
        """Open the path for the first time: resume from saved state or apply start_at.

        Returns the bytes consumed from a file rotated away while we were not running.
        """
        saved, self._saved = self._saved, None
        if saved is not None:
            if (saved.get("dev"), saved.get("ino")) == (st.st_dev, st.st_ino):
                opened = self._open_at(0, now)
                if opened is not None:
                    self._restore(opened, saved, st.st_size)
                return 0
            consumed = self._resume_rotated(saved, now)
            self._open_at(0, now)
            return consumed
        opened = self._open_at(0, now)
        # Only a file that was already there at our very first look counts as history.
        if opened is not None and self._first_poll and self.start_at == "end":
            opened.offset = end_of_last_line(opened.fd, st.st_size)
            self._update_head(opened)
        return 0

    def _restore(self, o: _Open, saved: dict[str, Any], size: int) -> bool:
        offset = saved.get("offset")
        head_len = saved.get("head_len")
        if not isinstance(offset, int) or not isinstance(head_len, int) or offset > size:
            self.truncations += 1
            return False
        if head_hash(o.fd, head_len) != saved.get("head_hash"):
            self.truncations += 1
            return False
        o.offset = offset
        self._update_head(o)
        return True

    def _resume_rotated(self, saved: dict[str, Any], now: float) -> int:
        """The path has a new file since we last ran; finish the old one if it is nearby."""
        dev, ino = saved.get("dev"), saved.get("ino")
        try:
            siblings = list(self.path.parent.iterdir())
        except OSError:
            return 0
        for candidate in siblings:
            st = _stat(candidate)
            if st is None or (st.st_dev, st.st_ino) != (dev, ino):
                continue
            try:
                fd = os.open(candidate, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
            except OSError:
                return 0
            o = _Open(fd=fd, dev=st.st_dev, ino=st.st_ino, offset=0, last_data=now)
            if not self._restore(o, saved, st.st_size):
                os.close(fd)
                return 0
            # Its tail comes before the new file's lines; it stays open for late writes.
            self._old.append(o)
            self.rotations += 1
            return self._drain(o, now)
        log.warning("follow_rotated_file_not_found", path=str(self.path))
        return 0

    def _open_at(self, offset: int, now: float) -> _Open | None:
        try:
            # O_NONBLOCK: a FIFO put in place after the stat cannot block the open.
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError as exc:
            self.read_errors += 1
            # Reported by _report() when the problem starts, not on every poll.
            self._open_problem = f"unreadable: {exc.strerror or exc}"
            return None
        fst = os.fstat(fd)
        if not stat.S_ISREG(fst.st_mode):
            os.close(fd)
            self.read_errors += 1
            self._open_problem = f"unreadable: not a regular file but a {file_kind(fst.st_mode)}"
            return None
        # The path may have been replaced between stat and open; trust the descriptor.
        self._cur = _Open(fd=fd, dev=fst.st_dev, ino=fst.st_ino, offset=offset, last_data=now)
        return self._cur

    def _check_truncated(self, o: _Open) -> None:
        size = os.fstat(o.fd).st_size
        if size < o.offset or (o.head_len and head_hash(o.fd, o.head_len) != o.head_hash):
            log.info("follow_truncated", path=str(self.path), offset=o.offset, size=size)
            self.truncations += 1
            o.offset = 0
            o.head_len = 0
            o.head_hash = ""

    def _drain(self, o: _Open, now: float) -> int:
        """Read complete lines from `o` until its end; returns bytes consumed."""
        consumed = 0
        while True:
            try:
                data = os.pread(o.fd, self.chunk_bytes, o.offset)
            except OSError as exc:
                self.read_errors += 1
                log.warning("follow_read_failed", path=str(self.path), error=exc.strerror)
                break
            if not data:
                break
            taken = take_lines(data, o.skipping, self.max_line_bytes)
            if taken is None:
                break
            end, text, o.skipping = taken.end, taken.text, taken.skipping
            self.long_lines += taken.cut
            if text:
                self.sink(text)
            o.offset += end
            consumed += end
            o.last_data = now
            if o.head_len < HEAD_BYTES:
                self._update_head(o)
            # The end of a skipped line may be followed by more lines in this same read.
            if len(data) < self.chunk_bytes and (o.skipping or end == len(data) or text):
                break
        return consumed

    def _update_head(self, o: _Open) -> None:
        o.head_len = min(o.offset, HEAD_BYTES)
        o.head_hash = head_hash(o.fd, o.head_len)

    def _save(self) -> None:
        if self._cur is None:
            return
        o = self._cur
        self._state.write(
            {
                "version": STATE_VERSION,
                "path": str(self.path),
                "dev": o.dev,
                "ino": o.ino,
                "offset": o.offset,
                "head_len": o.head_len,
                "head_hash": o.head_hash,
            }
        )


def _stat(path: Path) -> os.stat_result | None:
    return _stat_or_error(path)[0]


def _stat_or_error(path: Path) -> tuple[os.stat_result | None, OSError | None]:
    try:
        return os.stat(path), None
    except OSError as exc:
        return None, exc
