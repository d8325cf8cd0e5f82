"""The one redactor: configured secret values and credential shapes never leave the process.

Log lines, stored provider answers, dead letters and error messages all pass through
here, so what counts as a secret is decided in one place. A provider (or a proxy in
front of it) may echo a request in its error page, so a secret is also looked for in
the forms an echo shows it in: percent-encoded, JSON-escaped, and, for a URL, each part
that carries its secret (see `secret_forms`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import fields, is_dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

from servicekit.values import Secret

REDACTED = "<redacted>"

# Shorter configured values would blank out ordinary words in every line.
_MIN_SECRET_LEN = 4
# A part of a secret URL is taken for a secret on its own only when it is this long: a
# query value like `1.0` or a path like `/api` is no credential; tokens are far longer.
_MIN_PART_LEN = 8
# Path segments this long are the random tokens of webhook URLs (Slack's 24 characters,
# Discord's 68); shorter ones (`services`, `webhooks`, an id) are shown.
_MIN_SEGMENT_LEN = 16
_PATTERNS = (
    (re.compile(r"(?i)\b(bearer|basic|digest)(\s+)\S+"), rf"\1\2{REDACTED}"),
    (
        re.compile(
            r"(?i)\b(proxy-authorization|authorization|cookie|x-api-key)(\s*[:=]\s*)[^\r\n]+"
        ),
        rf"\1\2{REDACTED}",
    ),
    (
        re.compile(r"(?i)\b(password|passwd|secret|api_?key|access_token)=[^\s&'\"]+"),
        rf"\1={REDACTED}",
    ),
    (re.compile(r"(://[^/\s:@]+):[^/\s@]+@"), rf"\1:{REDACTED}@"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# One cheap search over every log string; the substitutions above run only on a hit.
_TRIGGER = re.compile(
    r"(?i)bearer|basic|digest|authorization|cookie|x-api-key|passw|secret|api_?key"
    r"|access_token|://|[\x00-\x08\x0b-\x1f\x7f]"
)
_secrets: set[str] = set()
# Every remembered form in one alternation, longest first, so a whole URL is replaced
# before its path would be; rebuilt when secrets are added, None while there are none.
_pattern: re.Pattern[str] | None = None


def url_secret_parts(url: str, *, whole: bool) -> list[str]:
    """The parts of URL `url` that carry a credential: the userinfo password and long query
    values always; with `whole` (a URL that is itself a secret, like a Slack webhook URL)
    also the URL without its userinfo, its path and query, and its long path segments."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    if not parts.scheme or not parts.netloc:
        return []
    found: list[str] = []
    if parts.password:
        found += [parts.password, unquote(parts.password)]
    found += [v for _, v in parse_qsl(parts.query) if len(v) >= _MIN_PART_LEN]
    if whole:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        found.append(urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")))
        path_query = parts.path + (f"?{parts.query}" if parts.query else "")
        found += [p for p in (path_query, parts.path, parts.query) if len(p) >= _MIN_PART_LEN]
        found += [s for s in parts.path.split("/") if len(s) >= _MIN_SEGMENT_LEN]
    return found


def secret_forms(value: str) -> list[str]:
    """`value` and the forms an echoed request shows it in: its secret URL parts (when it
    is a URL), each percent-encoded, JSON-escaped (`\\/`) and as a bytes repr."""
    if len(value) < _MIN_SECRET_LEN:
        return []
    plain = [value, *url_secret_parts(value, whole=True)]
    forms: list[str] = []
    for text in plain:
        forms += [
            text,
            quote(text, safe=""),
            quote(text, safe="/:"),
            text.replace("/", "\\/"),
            repr(text.encode("utf-8", "surrogateescape"))[2:-1],
        ]
    return list(dict.fromkeys(f for f in forms if len(f) >= _MIN_SECRET_LEN))


def _alternation(values: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted(set(values), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered))) if ordered else None


def secrets_pattern(secrets: Iterable[str | Secret | None]) -> re.Pattern[str] | None:
    """One pattern matching every `secret_forms` of the given secrets (None when there are
    none), for a caller that scrubs many texts with the same secrets."""
    forms: list[str] = []
    for secret in secrets:
        if secret is not None:
            forms += secret_forms(str.__str__(secret))
    return _alternation(forms)


def add_secrets(values: Iterable[str]) -> None:
    """Remember secret values (in every form `secret_forms` gives) so no log line shows them."""
    global _pattern
    for value in values:
        _secrets.update(secret_forms(str.__str__(value)))
    _pattern = _alternation(_secrets)


def secrets_in(obj: Any) -> list[str]:
    """Every `Secret` value inside a configuration tree (dataclasses, dicts, lists)."""
    found: list[str] = []
    stack: list[Any] = [obj]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if isinstance(item, Secret):
            found.append(item.reveal())
        elif isinstance(item, str | bytes | int | float | bool) or item is None or id(item) in seen:
            continue
        elif is_dataclass(item) and not isinstance(item, type):
            seen.add(id(item))
            stack.extend(getattr(item, f.name) for f in fields(item))
        elif isinstance(item, dict):
            seen.add(id(item))
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            seen.add(id(item))
            stack.extend(item)
    return found


def replace_secrets(text: str, secrets: Iterable[str | Secret | None]) -> str:
    """`text` with each given secret value (of at least four characters), in each of its
    `secret_forms`, replaced."""
    pattern = secrets_pattern(secrets)
    return text if pattern is None else pattern.sub(REDACTED, text)


def redact_text(text: str) -> str:
    """`text` with credentials and configured secrets replaced and control bytes escaped."""
    if _pattern is not None:
        text = _pattern.sub(REDACTED, text)
    if _TRIGGER.search(text) is None:
        return text
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def redact_value(value: Any) -> Any:
    """`value` with every string inside it (dicts and lists included) redacted."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value
