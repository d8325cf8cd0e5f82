"""Reading sysfs attribute files the way prometheus/procfs does (SysReadFile, ValueParser).

An attribute is one short value; drivers answer some reads with an error meaning "not
offered here" (EINVAL for a down link's speed, EOPNOTSUPP), which procfs skips. The
hardware and network class collectors all read through here, so the "missing is None"
and "a number as Go's strconv parses it" rules live in one place.
"""

from __future__ import annotations

import errno
import os
import re

from exporter.collector import CollectorUnavailable

# Errors procfs treats as "this attribute is not available" rather than as failures.
SKIPPED_ERRNOS = frozenset(
    {errno.ENOENT, errno.EACCES, errno.EPERM, errno.EINVAL, errno.EOPNOTSUPP}
)
# What the kernel answers for an attribute that exists but has nothing to say now.
QUIET_ERRNOS = frozenset({errno.ENOENT, errno.EINVAL, errno.ENODEV, errno.EOPNOTSUPP})
# procfs's SysReadFile reads at most this much of one attribute file.
ATTRIBUTE_SIZE = 128
# A sysfs attribute is at most one page; read a little more so a longer file is noticed
# as complete rather than cut.
_PAGE = 8192
_METRIC_NAME_INVALID = re.compile(r"_*[^0-9A-Za-z_]+_*")


def read_attr(
    path: str,
    quiet: frozenset[int] = frozenset({errno.ENOENT}),
    limit: int = _PAGE,
    dir_fd: int | None = None,
) -> str | None:
    """The attribute's text (at most `limit` bytes) trimmed; None for a `quiet` errno.

    With `dir_fd`, `path` is relative to that open directory.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in quiet:
            return None
        raise
    try:
        data = os.read(fd, limit)
    except OSError as exc:
        if exc.errno in quiet:
            return None
        raise
    finally:
        os.close(fd)
    return data.decode("utf-8", errors="replace").strip()


def read_attribute(path: str, dir_fd: int | None = None) -> str | None:
    """An attribute as procfs's SysReadFile reads it: 128 bytes, its skipped errors None.

    With `dir_fd`, `path` is relative to that open directory.
    """
    return read_attr(path, SKIPPED_ERRNOS, ATTRIBUTE_SIZE, dir_fd)


def parse_int(text: str) -> int | None:
    """Text as Go's strconv.ParseInt(text, 0, 64): `0x1003` is hex, `017` octal; else None."""
    try:
        return int(text, 0)
    except ValueError:
        pass
    try:
        # Python's base 0 rejects a leading zero that Go reads as octal.
        return int(text, 8) if text.lstrip("+-").startswith("0") else None
    except ValueError:
        return None


def parse_uint(text: str) -> int | None:
    """Text as Go's strconv.ParseUint(text, 0, 64): no sign allowed; else None."""
    if text.startswith(("+", "-")):
        return None
    value = parse_int(text)
    return value if value is not None and value < 1 << 64 else None


def go_int(text: str) -> int:
    """`parse_int` for callers that treat a malformed number as an error (ValueError)."""
    value = parse_int(text)
    if value is None:
        raise ValueError(f"invalid integer {text!r}")
    return value


def list_dir(path: str) -> list[str]:
    """The sorted entry names of a sysfs class directory; unavailable when it is absent."""
    try:
        return sorted(os.listdir(path))
    except FileNotFoundError as exc:
        raise CollectorUnavailable(f"{path} does not exist") from exc


def sanitize_metric_name(name: str) -> str:
    """node_exporter's SanitizeMetricName: each run of invalid characters becomes `_`."""
    return _METRIC_NAME_INVALID.sub("_", name)
