"""Where a follower keeps its read position.

A position is written after every read through `exporter.statefile` (atomically; a failure
is logged as `follow_state_write_failed` when it starts, not on every read).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from exporter.statefile import StateWriter

STATE_VERSION = 1
"""Format of the persisted position; a file with another version is ignored."""


def state_path(state_dir: Path, owner: str, source: str) -> Path:
    """Where the follower of `source` (a path or journal spec) for `owner` keeps its position."""
    digest = hashlib.sha256(f"{owner}\0{source}".encode()).hexdigest()[:24]
    return state_dir / "follow" / f"{owner}-{digest}.json"


def position_writer(path: Path | None) -> StateWriter:
    """Persists a follower's position (None: kept in memory only)."""
    return StateWriter(
        path,
        topic="follow",
        hint="the read position is kept in memory only; a restart re-reads or skips",
    )


def head_hash(fd: int, length: int) -> str:
    """SHA-256 of the first `length` bytes: tells a copytruncated file from the same one."""
    if length <= 0:
        return ""
    return hashlib.sha256(os.pread(fd, length, 0)).hexdigest()


def end_of_last_line(fd: int, size: int) -> int:
    """Offset just past the last newline at or before `size` (0 when there is none)."""
    pos = size
    while pos > 0:
        start = max(0, pos - 65536)
        block = os.pread(fd, pos - start, start)
        idx = block.rfind(b"\n")
        if idx >= 0:
            return start + idx + 1
        pos = start
    return 0
