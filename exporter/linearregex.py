"""User-supplied regular expressions compiled for RE2, whose matching time is linear.

Python's `re` backtracks: a pattern such as `(a+)+b` or `.*x.*y` takes time exponential or
quadratic in the length of a line that almost matches, and it holds the GIL meanwhile, so
one hostile log line would stall the whole exporter. RE2 (`google-re2`) guarantees time
linear in the input; in exchange it refuses backreferences and lookaround, which is
reported when the config is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import ModuleType
from typing import Any, Protocol


class LinearMatch(Protocol):
    """The part of a match object the parsers use."""

    def groupdict(self) -> dict[str, str | None]:
        """The named groups' text (None for a group that did not take part)."""


class LinearPattern(Protocol):
    """The part of a compiled RE2 pattern the parsers use."""

    @property
    def groupindex(self) -> Mapping[str, int]:
        """Named groups and their numbers."""

    def search(self, text: str) -> LinearMatch | None:
        """The first match anywhere in `text`."""


@cache
def _re2() -> tuple[ModuleType, Any]:
    """`re2` and its options, imported on first use: the module adds ~2.6 MB of RSS, and
    only a configured log regex needs it."""
    import re2

    options = re2.Options()
    # A refused pattern is reported as a config problem; RE2's own stderr line is noise.
    options.log_errors = False
    return re2, options


def compile_linear(pattern: str) -> LinearPattern:
    """Compile `pattern` for RE2; raises ValueError saying why RE2 refuses it."""
    re2, options = _re2()
    try:
        compiled: LinearPattern = re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(
            f"not supported by the linear-time engine (RE2): {reason}; "
            "backreferences and lookaround are refused because they can backtrack"
        ) from None
    return compiled
