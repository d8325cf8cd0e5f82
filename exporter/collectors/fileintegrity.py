"""File integrity: mtime, presence and SHA-256 drift of watched files.

The baseline digest of a file is the one given in the config, or else the one recorded the
first time the file was seen; recorded baselines are persisted in the state directory, so
a restart compares against the old baseline instead of silently accepting a changed file.
Files are hashed again only when their inode, size, mtime or ctime changes. Only regular
files of at most `max_file_bytes` are hashed (`exporter.regularfile`); a watched path that
is a FIFO, device, socket or directory, or is larger, is reported in
`tocsin_file_skipped{path,reason}` and logged once, and the other paths are still checked.

A state directory that cannot be written does not stop the checks: baselines stay in memory,
the write is retried every collection, failures count in
`tocsin_file_state_write_errors_total`, and `file_integrity_state_write_failed` is logged
when writing starts failing (`file_integrity_state_write_recovered` when it works again).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import structlog
from annotated_types import Ge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.regularfile import Skipped, SkippedFiles, open_regular
from exporter.statefile import StateWriter

log = structlog.get_logger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
STATE_FILE = "fileintegrity.json"


@dataclass
class FileIntegrityConfig:
    """`collectors.fileintegrity`: the watched files and optional known-good digests."""

    paths: list[str] = field(default_factory=list)
    expected_sha256: dict[str, str] = field(default_factory=dict)
    max_file_bytes: Annotated[int, Ge(1)] = 1 << 30

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        for i, p in enumerate(self.paths):
            if not p.startswith("/"):
                problems.append((f"paths[{i}]", f"expected an absolute path, got {p!r}"))
        if len(set(self.paths)) != len(self.paths):
            problems.append(("paths", "a path is listed twice"))
        for path, digest in self.expected_sha256.items():
            if path not in self.paths:
                problems.append((f"expected_sha256.{path}", "path is not listed in paths"))
            if not _SHA256.match(str(digest).lower()):
                problems.append((f"expected_sha256.{path}", "expected 64 hex digits (SHA-256)"))
        return problems


@dataclass
class _Seen:
    """A watched file as last hashed; a new `key` (inode, size, mtimes) means hash again."""

    key: tuple[int, int, int, int] | None = None
    digest: str | None = None
    mtime: float | None = None
    # Not hashed because it is not a regular file or is too large; kept until `key` changes.
    skipped: Skipped | None = None


@register
class FileIntegrityCollector(Collector):
    """Reports watched files' mtime, absence and drift from a SHA-256 baseline."""

    name = "fileintegrity"
    default_enabled = False
    description = "mtime, presence and SHA-256 drift of watched files"
    Config = FileIntegrityConfig
    config: FileIntegrityConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._state_path = Path(ctx.state_dir) / STATE_FILE
        self._baselines: dict[str, str] | None = None
        self._seen: dict[str, _Seen] = {}
        self._read_errors: dict[str, int] = dict.fromkeys(self.config.paths, 0)
        self._state = StateWriter(
            self._state_path,
            topic="file_integrity",
            hint="baselines are kept in memory only; a restart would record new ones",
            indent=1,
        )
        self._skipped = SkippedFiles(self.name, "tocsin_file_skipped")
        self._lock = threading.Lock()

    def _load_baselines(self) -> dict[str, str]:
        try:
            raw = json.loads(self._state_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, NotADirectoryError):
            # No state can exist there; whether it can be written shows when it is saved.
            return {}
        except (OSError, ValueError) as exc:
            # A damaged state file must not reset every baseline silently.
            raise RuntimeError(
                f"cannot read file-integrity state {self._state_path}: {exc}"
            ) from exc
        baselines = raw.get("baselines", {}) if isinstance(raw, dict) else {}
        return {str(k): str(v) for k, v in baselines.items() if _SHA256.match(str(v))}

    def _hash(self, local: Path) -> str:
        """SHA-256 of a regular file within `max_file_bytes`; raises Skipped or OSError."""
        digest = hashlib.sha256()
        with open_regular(str(local), self.config.max_file_bytes) as (fd, st):
            # No further than the size it had when opened: a growing file cannot keep
            # the hash going.
            left = st.st_size
            while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
                digest.update(chunk)
                left -= len(chunk)
        return digest.hexdigest()

    def _check(self, path: str) -> _Seen | None:
        """Current state of one file; None when it is missing."""
        local = self.paths.root(path)
        try:
            st = os.stat(local)
        except FileNotFoundError:
            self._seen.pop(path, None)
            return None
        except OSError as exc:
            # It may exist (a symlink loop, a parent we may not search): not missing, but
            # nothing is known about it.
            self._seen.pop(path, None)
            self._read_errors[path] = self._read_errors.get(path, 0) + 1
            log.warning("file_integrity_read_failed", path=path, error=exc.strerror or str(exc))
            return _Seen()
        seen = self._seen.setdefault(path, _Seen())
        key = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        seen.mtime = st.st_mtime
        if key != seen.key or (seen.digest is None and seen.skipped is None):
            seen.key = key
            seen.skipped = None
            try:
                seen.digest = self._hash(local)
            except Skipped as exc:
                seen.digest, seen.skipped = None, exc
            except OSError as exc:
                seen.digest = None
                self._read_errors[path] = self._read_errors.get(path, 0) + 1
                log.warning("file_integrity_read_failed", path=path, error=exc.strerror or str(exc))
        return seen

    def collect(self) -> Iterable[Metric]:
        mtime = GaugeMetricFamily(
            "tocsin_file_mtime_seconds",
            "Last modification time of the watched file (Unix time).",
            labels=["path"],
        )
        changed = GaugeMetricFamily(
            "tocsin_file_checksum_changed",
            "1 when the file's SHA-256 differs from its baseline.",
            labels=["path"],
        )
        missing = GaugeMetricFamily(
            "tocsin_file_missing",
            "1 when the watched file does not exist.",
            labels=["path"],
        )
        errors = CounterMetricFamily(
            "tocsin_file_read_errors_total",
            "Failed attempts to read a watched file for hashing.",
            labels=["path"],
        )
        with self._lock:
            if self._baselines is None:
                self._baselines = self._load_baselines()
            recorded = False
            for path in self.config.paths:
                seen = self._check(path)
                missing.add_metric([path], 0.0 if seen else 1.0)
                if seen is None:
                    continue
                if seen.mtime is not None:
                    mtime.add_metric([path], seen.mtime)
                if seen.skipped is not None:
                    self._skipped.skip(path, seen.skipped)
                if seen.digest is None:
                    continue
                baseline = self.config.expected_sha256.get(path, "").lower() or self._baselines.get(
                    path
                )
                if baseline is None:
                    self._baselines[path] = seen.digest
                    baseline = seen.digest
                    recorded = True
                    log.info("file_integrity_baseline_recorded", path=path, at=time.time())
                changed.add_metric([path], 0.0 if seen.digest == baseline else 1.0)
            if recorded or self._state.failing:
                self._state.write({"baselines": self._baselines})
            for path, count in self._read_errors.items():
                errors.add_metric([path], float(count))
            skipped = self._skipped.finish()
            state_errors = CounterMetricFamily(
                "tocsin_file_state_write_errors",
                "Failed attempts to persist recorded baselines in the state directory.",
                value=float(self._state.errors),
            )
        yield mtime
        yield changed
        yield missing
        yield errors
        yield skipped
        yield state_errors
