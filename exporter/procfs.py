"""Reading the small /proc and /sys files the system collectors report on."""

from __future__ import annotations

import os

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
