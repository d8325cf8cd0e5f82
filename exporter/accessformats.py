"""Access-log lines into per-chunk tallies: the built-in formats, JSON lines and a regex.

For the built-in formats one compiled multi-line regex runs over a whole chunk (`findall`),
and the per-request tallies are made with C-level `Counter`s, so the per-line cost in Python
is close to the regex alone.

Parsing time is linear in the length of a line whatever the line holds. The built-in
patterns use only possessive quantifiers and atomic groups over pieces that cannot match
the same text two ways, so a line that fails (an unclosed quote, a 4-digit status) fails
without backtracking. A user's `regex` runs on RE2 (`exporter.linearregex`), which
refuses the constructs that would need backtracking when the config is loaded.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Protocol

from exporter.linearregex import compile_linear


class JsonFieldNames(Protocol):
    """Where a JSON-lines log keeps each request field (dotted for nested objects)."""

    @property
    def method(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def bytes(self) -> str: ...
    @property
    def duration(self) -> str: ...
    @property
    def request(self) -> str: ...


class LineFormat(Protocol):
    """What the parser reads from a log's config (`exporter.collectors.accesslog.LogConfig`)."""

    @property
    def format(self) -> str: ...
    @property
    def regex(self) -> re.Pattern[str] | None: ...
    @property
    def json_fields(self) -> JsonFieldNames: ...
    @property
    def route_label(self) -> bool: ...


# Pieces of the built-in formats. No piece may match a newline: the regex runs over a
# chunk of many lines at once, anchored per line with MULTILINE. Every quantifier is
# possessive (`*+`, `++`) and every alternation atomic (`(?>...)`): once a piece has
# matched it is never re-tried shorter, which is what keeps a failing line linear.
# A path stops before a backslash that escapes a quote: that `\"` belongs to the request.
_QUOTED = r'"[^"\\\n]*+(?:\\.[^"\\\n]*+)*+"'
_PATH = r'((?:[^ "\\\n]++|\\(?!"))*+)'
_REST = r'[^"\\\n]*+(?:\\.[^"\\\n]*+)*+'
_REQUEST = r'"(?>([A-Za-z]++) ' + _PATH + _REST + "|" + _REST + ')"'
_HEAD = r'^\S++ \S++ (?>[^\s"]++|"[^"\n]*+") \[[^\]\n]*+\] ' + _REQUEST + r" (\d{3}) (?>(\d++)|-)"
_DURATION = r"(?> (?>rt=|request_time=)?+(\d++(?:\.\d++)?+)(?= |$))?+[^\n]*+$"
FORMAT_PATTERNS = {
    "combined": re.compile(_HEAD + " " + _QUOTED + " " + _QUOTED + _DURATION, re.MULTILINE),
    "common": re.compile(_HEAD + _DURATION, re.MULTILINE),
}


@dataclass
class Batch:
    """What one chunk of lines adds up to, before labels are bounded."""

    lines: int = 0
    parsed: int = 0
    # (method, status) or, with routes, (method, status, path)
    requests: Counter[tuple[str, ...]] = field(default_factory=Counter)
    bytes: float = 0.0
    durations: Counter[str] = field(default_factory=Counter)


class Parser:
    """Turns a chunk of complete lines into a Batch."""

    def __init__(self, cfg: LineFormat) -> None:
        self.cfg = cfg
        self.with_path = cfg.route_label
        self._parse: Callable[[str], Batch]
        if cfg.format in FORMAT_PATTERNS:
            self._findall = FORMAT_PATTERNS[cfg.format].findall
            self._key = itemgetter(0, 2, 1) if self.with_path else itemgetter(0, 2)
            self._parse = self._parse_builtin
        elif cfg.format == "json":
            self._parse = self._parse_json
        else:
            assert cfg.regex is not None
            # Validated at config load (LogConfig.validate), so RE2 accepts it here.
            self._search = compile_linear(cfg.regex.pattern).search
            self._parse = self._parse_regex

    def parse(self, text: str) -> Batch:
        """Parse `text` (lines ending in newlines)."""
        return self._parse(text)

    def _parse_builtin(self, text: str) -> Batch:
        rows = self._findall(text)
        return Batch(
            lines=text.count("\n"),
            parsed=len(rows),
            requests=Counter(map(self._key, rows)),
            bytes=float(sum(map(int, filter(None, map(itemgetter(3), rows))))),
            durations=Counter(filter(None, map(itemgetter(4), rows))),
        )

    def _add(
        self, batch: Batch, method: str, status: str, path: str, size: Any, duration: Any
    ) -> None:
        batch.parsed += 1
        key = (method, status, path) if self.with_path else (method, status)
        batch.requests[key] += 1
        if size not in (None, "", "-"):
            with contextlib.suppress(TypeError, ValueError):
                batch.bytes += float(size)
        if duration not in (None, "", "-"):
            batch.durations[str(duration)] += 1

    def _parse_regex(self, text: str) -> Batch:
        batch = Batch()
        search = self._search
        for line in text.splitlines():
            batch.lines += 1
            m = search(line)
            if m is None:
                continue
            g = m.groupdict()
            status = g.get("status") or ""
            if not status.isdigit():
                continue
            self._add(
                batch,
                g.get("method") or "",
                status,
                g.get("path") or "",
                g.get("bytes"),
                g.get("duration"),
            )
        return batch

    def _parse_json(self, text: str) -> Batch:
        batch = Batch()
        f = self.cfg.json_fields
        for line in text.splitlines():
            batch.lines += 1
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if not isinstance(obj, dict):
                continue
            status = _dig(obj, f.status)
            if isinstance(status, bool) or not isinstance(status, int | str):
                continue
            status = str(status)
            if not status.isdigit():
                continue
            method, path = _dig(obj, f.method), _dig(obj, f.path)
            if method is None or path is None:
                request = _dig(obj, f.request)
                if isinstance(request, str):
                    parts = request.split(" ")
                    method = method if method is not None else parts[0]
                    path = path if path is not None else (parts[1] if len(parts) > 1 else "")
            self._add(
                batch,
                method if isinstance(method, str) else "",
                status,
                path if isinstance(path, str) else "",
                _dig(obj, f.bytes),
                _dig(obj, f.duration),
            )
        return batch


def _dig(obj: dict[str, Any], dotted: str) -> Any:
    value: Any = obj
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
