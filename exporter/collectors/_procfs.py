"""Small helpers shared by the /proc and /sys collectors."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from exporter.collector import CollectorUnavailable

_CHUNK = 65536


def read_text(path: str | os.PathLike[str]) -> str:
    """A whole (small) procfs/sysfs file as text."""
    # Raw os-level reads skip the io stack's buffered file objects, which cost more than
    # the read itself for these small files. A procfs file may arrive in several reads.
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, _CHUNK)
        if data:
            chunks = [data]
            while more := os.read(fd, _CHUNK):
                chunks.append(more)
            if len(chunks) > 1:
                data = b"".join(chunks)
    finally:
        os.close(fd)
    return data.decode("utf-8", errors="replace")


def read_required(path: str | os.PathLike[str]) -> str:
    """Like `read_text`, but a missing file means the host lacks this collector's source."""
    try:
        return read_text(path)
    except FileNotFoundError as exc:
        raise CollectorUnavailable(f"{path} does not exist") from exc


def regex_problems(fields: dict[str, str]) -> list[tuple[str, str]]:
    """`(key, message)` for every value that is not a valid regular expression."""
    problems = []
    for key, pattern in fields.items():
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append((key, f"invalid regular expression {pattern!r}: {exc}"))
    return problems


@dataclass(frozen=True)
class DeviceFilter:
    """node_exporter's include/exclude device filter: an include pattern wins over exclude."""

    include: re.Pattern[str] | None
    exclude: re.Pattern[str] | None

    @classmethod
    def build(cls, include: str, exclude: str) -> DeviceFilter:
        """Compile the patterns; an empty pattern means 'not set'."""
        if include:
            return cls(re.compile(include), None)
        return cls(None, re.compile(exclude) if exclude else None)

    def ignored(self, name: str) -> bool:
        """True when the device should not be reported (unanchored match, like Go's)."""
        if self.include is not None:
            return self.include.search(name) is None
        return self.exclude is not None and self.exclude.search(name) is not None
