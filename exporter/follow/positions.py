"""Where a follower keeps its read position, and how it is written so a crash never loses it.

A position is a small JSON object, replaced atomically (temp file + rename) after every
read. A position that cannot be persisted is counted and logged when writing starts
failing (`follow_state_write_failed`, error) and when it works again, never on every read.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)

STATE_VERSION = 1
"""Format of the persisted position; a file with another version is ignored."""


def state_path(state_dir: Path, owner: str, source: str) -> Path:
    """Where the follower of `source` (a path or journal spec) for `owner` keeps its position."""
    digest = hashlib.sha256(f"{owner}\0{source}".encode()).hexdigest()[:24]
    return state_dir / "follow" / f"{owner}-{digest}.json"


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` with `data` so a reader (or a crash) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


class StateWriter:
    """Persists a follower's position, counting failures and logging only when that changes."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.errors = 0
        self._failing = False

    def write(self, data: dict[str, Any]) -> None:
        """Write `data` atomically; a failure is counted, and logged once until it recovers."""
        if self.path is None:
            return
        try:
            write_json_atomic(self.path, data)
        except OSError as exc:
            self.errors += 1
            if not self._failing:
                self._failing = True
                log.error(
                    "follow_state_write_failed",
                    file=str(self.path),
                    error=exc.strerror or str(exc),
                    hint="the read position is kept in memory only; a restart re-reads or skips",
                )
            return
        if self._failing:
            self._failing = False
            log.info("follow_state_write_recovered", file=str(self.path))


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from `path`, or None when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
