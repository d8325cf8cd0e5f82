"""Reading sysfs class attributes the way prometheus/procfs does (trimmed, Go-parsed).

The hardware collectors (hwmon, thermal_zone, powersupplyclass, rapl, cpufreq, dmi, edac,
watchdog, nvme) read many one-value files whose absence is normal; these helpers keep
the "missing is None" and "a number as Go's strconv parses it" rules in one place.
"""

from __future__ import annotations

import errno
import os
import re

from exporter.collector import CollectorUnavailable
from exporter.procfs import read_text

# What the kernel answers for an attribute that exists but has nothing to say now.
QUIET_ERRNOS = frozenset({errno.ENOENT, errno.EINVAL, errno.ENODEV, errno.EOPNOTSUPP})
_METRIC_NAME_INVALID = re.compile(r"_*[^0-9A-Za-z_]+_*")


def read_attr(path: str, quiet: frozenset[int] = frozenset({errno.ENOENT})) -> str | None:
    """The attribute's text with surrounding whitespace trimmed; None for a `quiet` errno."""
    try:
        return read_text(path).strip()
    except OSError as exc:
        if exc.errno in quiet:
            return None
        raise


def go_int(text: str) -> int:
    """An integer as Go's strconv.ParseInt(s, 0, 64): 0x/0o/0b prefixes, a leading 0 octal."""
    body = text.lstrip("+-")
    if len(body) > 1 and body[0] == "0" and body[1].isdigit():
        return int(text.replace("0", "0o", 1), 0)
    return int(text, 0)


def list_dir(path: str) -> list[str]:
    """The sorted entry names of a sysfs class directory; unavailable when it is absent."""
    try:
        return sorted(os.listdir(path))
    except FileNotFoundError as exc:
        raise CollectorUnavailable(f"{path} does not exist") from exc


def sanitize_metric_name(name: str) -> str:
    """node_exporter's SanitizeMetricName: each run of invalid characters becomes `_`."""
    return _METRIC_NAME_INVALID.sub("_", name)
