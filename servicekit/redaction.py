"""The one redactor: configured secret values and credential shapes never leave the process.

Log lines, stored provider answers, dead letters and error messages all pass through
here, so what counts as a secret is decided in one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import fields, is_dataclass
from typing import Any

from servicekit.values import Secret

REDACTED = "<redacted>"

# Shorter configured values would blank out ordinary words in every line.
_MIN_SECRET_LEN = 4
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


def add_secrets(values: Iterable[str]) -> None:
    """Remember secret values (and their bytes-repr form) so no log line shows them."""
    for value in values:
        if len(value) >= _MIN_SECRET_LEN:
            _secrets.add(value)
            _secrets.add(repr(value.encode("utf-8", "surrogateescape"))[2:-1])


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
    """`text` with each given secret value (of at least four characters) replaced."""
    for secret in secrets:
        if secret is None:
            continue
        value = secret.reveal() if isinstance(secret, Secret) else str(secret)
        if len(value) >= _MIN_SECRET_LEN and value in text:
            text = text.replace(value, REDACTED)
    return text


def redact_text(text: str) -> str:
    """`text` with credentials and configured secrets replaced and control bytes escaped."""
    text = replace_secrets(text, _secrets)
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
