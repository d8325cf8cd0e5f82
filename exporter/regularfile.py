"""Reading a configured file safely: only regular files, never blocking, never unbounded.

A path a collector reads may name anything: a FIFO (opening it for reading blocks until a
writer appears, so the collector hangs for good), a character device (`/dev/zero` never
ends, so reading it fills memory), a socket or a directory. The path is `stat`ed first,
following symlinks, since certificate directories are routinely symlinks to regular files
(Let's Encrypt's `live/`, `/etc/ssl/certs`); what is not a regular file is refused before
it is opened. It is then opened with `O_NONBLOCK` (a FIFO swapped in after the stat cannot
block the open) and `fstat`ed again, and at most `max_bytes` are read.

`SkippedFiles` reports what was refused: one log line when a path starts being skipped
(or its reason changes) and one when it is read again, never one per collection, plus a
gauge family the collector yields.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from prometheus_client.core import GaugeMetricFamily

log = structlog.get_logger(__name__)

_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
_KINDS = (
    (stat.S_ISDIR, "directory"),
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISSOCK, "socket"),
)


class Skipped(Exception):
    """The path is not read. `reason` is short and stable (its file type, or "too large"),
    fit for a label; the message says more."""

    def __init__(self, path: str, reason: str, detail: str) -> None:
        super().__init__(f"{path}: {detail}")
        self.path = path
        self.reason = reason


def file_kind(mode: int) -> str:
    """What a stat mode describes, in words ("regular file", "fifo", ...)."""
    if stat.S_ISREG(mode):
        return "regular file"
    return next((name for test, name in _KINDS if test(mode)), "special file")


def _refuse_special(path: str, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        kind = file_kind(st.st_mode)
        raise Skipped(path, kind, f"not a regular file but a {kind}")


@contextmanager
def open_regular(path: str, max_bytes: int) -> Iterator[tuple[int, os.stat_result]]:
    """A descriptor on `path` and its fstat, if it is a regular file of at most `max_bytes`.

    Raises Skipped for anything else and OSError when it cannot be opened.
    """
    _refuse_special(path, os.stat(path))
    fd = os.open(path, _OPEN_FLAGS)
    try:
        st = os.fstat(fd)
        _refuse_special(path, st)
        if st.st_size > max_bytes:
            raise Skipped(path, "too large", f"{st.st_size} bytes, over the cap of {max_bytes}")
        yield fd, st
    finally:
        os.close(fd)


def read_regular(path: str, max_bytes: int) -> tuple[bytes, os.stat_result]:
    """The content of a regular file of at most `max_bytes`, and its fstat after reading.

    Raises Skipped (not a regular file, or too large, also when it grew while read) and
    OSError.
    """
    with open_regular(path, max_bytes) as (fd, _):
        chunks = []
        left = max_bytes + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            raise Skipped(path, "too large", f"grew past the cap of {max_bytes} bytes while read")
        return b"".join(chunks), os.fstat(fd)


class SkippedFiles:
    """The paths one collector skipped in its last pass, with transition logging.

    Call `skip()` for each path refused during a pass and `finish()` at its end.
    """

    def __init__(self, collector: str, family: str, label: str = "path") -> None:
        self.collector = collector
        self.family = family
        self.label = label
        self._now: dict[str, str] = {}
        self._last: dict[str, str] = {}

    def skip(self, path: str, skipped: Skipped) -> None:
        """Record that `path` was not read in this pass, and why."""
        self._now[path] = skipped.reason
        if self._last.get(path) != skipped.reason:
            log.warning(
                "file_skipped",
                collector=self.collector,
                path=path,
                reason=skipped.reason,
                error=str(skipped),
                hint="only regular files within the size cap are read; the others still are",
            )

    def finish(self) -> GaugeMetricFamily:
        """End the pass: log the paths read again, and return the gauge family."""
        for path in self._last.keys() - self._now.keys():
            log.info("file_no_longer_skipped", collector=self.collector, path=path)
        self._last, self._now = self._now, {}
        family = GaugeMetricFamily(
            self.family,
            "1 for a configured file that was not read in the last collection because it "
            "is not a regular file (a FIFO, device, socket or directory) or is too large.",
            labels=[self.label, "reason"],
        )
        for path, reason in sorted(self._last.items()):
            family.add_metric([path, reason], 1.0)
        return family
