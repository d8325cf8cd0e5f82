"""Files in the exporter's state directory (read positions, integrity baselines).

Each is a small JSON object replaced atomically (temp file + rename), so a reader or a
crash never sees half a file. A write that fails is counted; it is logged when writing
starts failing (`<topic>_state_write_failed`, error) and when it works again
(`<topic>_state_write_recovered`), never on every attempt.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)


def write_json_atomic(path: Path, data: dict[str, Any], *, indent: int | None = None) -> None:
    """Replace `path` with `data` so a reader (or a crash) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, sort_keys=True, indent=indent), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from `path`, or None when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class StateWriter:
    """Writes one state file, counting failures and logging only when that changes."""

    def __init__(
        self, path: Path | None, *, topic: str, hint: str, indent: int | None = None
    ) -> None:
        self.path = path
        self.errors = 0
        self.failing = False
        self._topic = topic
        self._hint = hint
        self._indent = indent

    def write(self, data: dict[str, Any]) -> None:
        """Write `data` atomically; a failure is counted, and logged once until it recovers."""
        if self.path is None:
            return
        try:
            write_json_atomic(self.path, data, indent=self._indent)
        except OSError as exc:
            self.errors += 1
            if not self.failing:
                self.failing = True
                log.error(
                    f"{self._topic}_state_write_failed",
                    file=str(self.path),
                    error=exc.strerror or str(exc),
                    hint=self._hint,
                )
            return
        if self.failing:
            self.failing = False
            log.info(f"{self._topic}_state_write_recovered", file=str(self.path))
