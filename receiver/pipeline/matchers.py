"""Alertmanager-style label matchers: `name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"`."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MATCHER_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


@dataclass(frozen=True)
class Matcher:
    """One label matcher; regexes are anchored as in Alertmanager."""

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
        hit = self.regex.fullmatch(actual) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'


def parse_matcher(text: str) -> Matcher:
    """Parse one matcher; raises ValueError saying what was expected."""
    m = _MATCHER_RE.match(text)
    if not m:
        raise ValueError(f'expected a matcher such as severity="critical", got {text!r}')
    name, op, raw = m.groups()
    value = _unquote(raw)
    regex = None
    if op in ("=~", "!~"):
        try:
            regex = re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression in {text!r}: {exc}") from None
    return Matcher(name, op, value, regex)


def parse_matchers(texts: list[str]) -> list[Matcher]:
    """Parse several matchers (all must hold)."""
    return [parse_matcher(t) for t in texts]


def matches_all(matchers: list[Matcher], labels: dict[str, str]) -> bool:
    """True when every matcher holds for `labels`."""
    return all(m.matches(labels) for m in matchers)


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return bytes(raw[1:-1], "utf-8").decode("unicode_escape")
    return raw
