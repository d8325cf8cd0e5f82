"""Reading sysfs attribute files the way prometheus/procfs does (SysReadFile, ValueParser).

An attribute is one short value; drivers answer some reads with an error meaning "not
offered here" (EINVAL for a down link's speed, EOPNOTSUPP), which procfs skips.
"""

from __future__ import annotations

import errno
import os

# Errors procfs treats as "this attribute is not available" rather than as failures.
SKIPPED_ERRNOS = frozenset(
    {errno.ENOENT, errno.EACCES, errno.EPERM, errno.EINVAL, errno.EOPNOTSUPP}
)
# procfs reads at most this much of one attribute file.
ATTRIBUTE_SIZE = 128


def read_attribute(path: str) -> str | None:
    """An attribute file's trimmed text, or None when the device does not offer it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in SKIPPED_ERRNOS:
            return None
        raise
    try:
        data = os.read(fd, ATTRIBUTE_SIZE)
    except OSError as exc:
        if exc.errno in SKIPPED_ERRNOS:
            return None
        raise
    finally:
        os.close(fd)
    return data.decode("utf-8", errors="replace").strip()


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
