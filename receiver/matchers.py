"""Alertmanager-style label matchers: `name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"`.

Parsed exactly as Alertmanager 0.25 parses route `matchers` (pkg/labels/parse.go), so
a string `amtool check-config` accepts means the same here and one it rejects is
rejected with a clear message: a value is either unquoted or wholly double-quoted
(`\\"`, `\\\\` and `\\n` are escapes), a stray or missing quote is an error, label names
are `[a-zA-Z_:][a-zA-Z0-9_:]*`, and a regex must compile. One string may hold several
matchers separated by commas, optionally wrapped in `{...}`, as in alertmanager.yml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Go's regexp `\s` is ASCII whitespace only, and `.` with (?s) also matches newlines.
_WS = "[ \t\n\f\r]"
_MATCHER_RE = re.compile(
    rf"^{_WS}*([a-zA-Z_:][a-zA-Z0-9_:]*){_WS}*(=~|=|!=|!~){_WS}*(.*?){_WS}*\Z", re.DOTALL
)
_ESCAPES = {"n": "\n", '"': '"', "\\": "\\"}


class MatcherError(ValueError):
    """A matcher string that Alertmanager would reject; the message says why."""


@dataclass(frozen=True)
class Matcher:
    """One label matcher; a regex must match the whole value, as in Alertmanager."""

    name: str
    op: str
    value: str
    regex: re.Pattern[str] | None = None

    def matches(self, labels: dict[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        assert self.regex is not None
        hit = self.regex.search(actual) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        quoted = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.name}{self.op}"{quoted}"'


class MatcherSet(str):
    """One `matchers` entry of a route as written, with the matchers it holds parsed once
    (when the config is read) for the router to use."""

    matchers: tuple[Matcher, ...]

    @classmethod
    def parse(cls, value: object) -> MatcherSet:
        """Read a config value; raises MatcherError."""
        if not isinstance(value, str):
            raise MatcherError(
                f'expected a matcher string such as severity="critical", got {value!r}'
            )
        entry = cls(value)
        entry.matchers = tuple(split_matchers(value))
        return entry


def parse_matcher(text: str) -> Matcher:
    """Parse exactly one matcher (e.g. an API `match=` parameter); raises MatcherError."""
    found = split_matchers(text)
    if len(found) != 1:
        raise MatcherError(
            f'expected one matcher such as severity="critical", got {len(found)} in {text!r}'
            " (quote a value that contains a comma)"
        )
    return found[0]


def split_matchers(text: str) -> list[Matcher]:
    """One string of comma-separated matchers, optionally in braces (`{a="1",b=~"x"}`),
    split as Alertmanager's ParseMatchers does; raises MatcherError."""
    body = text.removeprefix("{").removesuffix("}")
    tokens: list[str] = []
    current: list[str] = []
    inside_quotes = escaped = False
    for ch in body:
        if ch == "," and not inside_quotes:
            tokens.append("".join(current))
            current = []
            continue
        if ch == '"':
            if not escaped:
                inside_quotes = not inside_quotes
            else:
                escaped = False
        elif ch == "\\":
            escaped = not escaped
        else:
            escaped = False
        current.append(ch)
    last = "".join(current).strip()
    if last:
        tokens.append(last)
    return [_parse_one(token) for token in tokens]


def matches_all(matchers: list[Matcher], labels: dict[str, str]) -> bool:
    """True when every matcher holds for `labels`."""
    return all(m.matches(labels) for m in matchers)


def _parse_one(text: str) -> Matcher:
    m = _MATCHER_RE.match(text)
    if not m:
        raise MatcherError(
            f'expected a matcher such as severity="critical" (a label name of letters,'
            f" digits, _ or :, then =, !=, =~ or !~, then a value), got {text!r}"
        )
    name, op, raw = m.groups()
    value = _unquote(raw, text)
    regex = None
    if op in ("=~", "!~"):
        try:
            # Alertmanager anchors as ^(?:value)$; \A and \Z are the exact equivalent.
            regex = re.compile(rf"\A(?:{value})\Z")
        except re.error as exc:
            raise MatcherError(f"invalid regular expression in {text!r}: {exc}") from None
    return Matcher(name, op, value, regex)


def _unquote(raw: str, text: str) -> str:
    expect_quote = raw.startswith('"')
    body = raw[1:] if expect_quote else raw
    out: list[str] = []
    escaped = False
    for i, ch in enumerate(body):
        if escaped:
            escaped = False
            # An unknown escape is kept literally, backslash included, as Alertmanager does.
            out.append(_ESCAPES.get(ch, "\\" + ch))
            continue
        if ch == "\\":
            if i < len(body) - 1:
                escaped = True
                continue
            out.append(ch)
        elif ch == '"':
            if not expect_quote or i < len(body) - 1:
                raise MatcherError(
                    f"unescaped double quote in the value of {text!r}: quote the whole"
                    ' value, e.g. name="value", and write \\" for a quote inside it'
                )
            expect_quote = False
        else:
            out.append(ch)
    if expect_quote:
        raise MatcherError(f"missing closing double quote in the value of {text!r}")
    return "".join(out)
