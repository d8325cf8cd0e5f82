"""Value types a configuration file may hold beyond YAML's own: durations and secrets."""

from __future__ import annotations

import re
from typing import Any

_DURATION_RE = re.compile(r"^(?:(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_UNIT_SECONDS = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
    "y": 31536000.0,
}


class Duration(float):
    """Seconds, written in YAML as Prometheus-style durations (`500ms`, `10s`, `1h30m`)."""

    @classmethod
    def parse(cls, value: Any) -> Duration:
        if isinstance(value, bool):
            raise ValueError("expected a duration such as 10s, 5m or 1h")
        if isinstance(value, int | float):
            if value < 0:
                raise ValueError("expected a non-negative duration")
            return cls(value)
        if isinstance(value, str) and _DURATION_RE.match(value.strip()):
            total = sum(
                float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(value.strip())
            )
            return cls(total)
        raise ValueError(f"expected a duration such as 10s, 5m or 1h, got {value!r}")


class Secret(str):
    """A string that never shows its value in repr, logs or error messages."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('<redacted>')"

    def reveal(self) -> str:
        """Return the plain value, for the one place that must send it."""
        return str.__str__(self)
