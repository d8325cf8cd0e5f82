"""structlog set-up: JSON lines in production, pretty on a TTY, context from contextvars.

The correlation id of the request (or notification) being handled is bound with
`structlog.contextvars`, so every line logged while handling it carries it.

The standard library's loggers (aiohttp's `aiohttp.server`, `aiohttp.access`,
`aiohttp.web`, ...) go through the same processors, so every line has the same shape.
Their exceptions are summarised as `Type: message` on one line, because aiohttp's
parser errors quote the offending request line or header verbatim. A last redaction
step scrubs credentials (`Bearer …`, `Basic …`, `Authorization: …`, URL passwords) and
every secret value the configuration holds from every string before it is written.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from dataclasses import fields, is_dataclass
from typing import Any

import structlog

from receiver.confload import Secret

LEVELS = ("debug", "info", "warning", "error")
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


def redact_text(text: str) -> str:
    """`text` with credentials and configured secrets replaced and control bytes escaped."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    if _TRIGGER.search(text) is None:
        return text
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


def redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: scrub every string value (the last step before rendering)."""
    for key, value in event_dict.items():
        event_dict[key] = _redact_value(value)
    return event_dict


def summarise_exception(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """For stdlib records: `exc_info` becomes `error: "Type: message"` and the message
    is folded onto one line."""
    event = event_dict.get("event")
    if isinstance(event, str) and "\n" in event:
        event_dict["event"] = " ".join(event.split())
    exc_info = event_dict.pop("exc_info", None)
    exc: BaseException | None = None
    if isinstance(exc_info, BaseException):
        exc = exc_info
    elif isinstance(exc_info, tuple) and len(exc_info) == 3:
        exc = exc_info[1]
    if exc is not None:
        message = " ".join(str(exc).split())
        event_dict["error"] = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return event_dict


def setup(level: str = "info", fmt: str = "auto") -> None:
    """Configure structlog and the stdlib root logger once, for the whole process."""
    pretty = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.dev.ConsoleRenderer()
        if pretty
        else structlog.processors.JSONRenderer(sort_keys=True)
    )
    number = getattr(logging, level.upper(), logging.INFO)
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(number),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                *shared,
                structlog.stdlib.add_logger_name,
                summarise_exception,
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                redact,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # Third-party libraries' info lines are noise here; their warnings and errors are not.
    root.setLevel(max(number, logging.WARNING))
    # One line per request is the middleware's job; aiohttp's access log would double it.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
