"""The one structlog set-up: logfmt or JSON lines on stderr, pretty on a TTY.

The correlation id of the request (or notification) being handled is bound with
`structlog.contextvars`, so every line logged while handling it carries it.

The standard library's loggers (aiohttp's) go through the same processors, so every
line has the same shape. Their exceptions are summarised as `Type: message` on one
line, because aiohttp's parser errors quote the offending request line or header
verbatim. A last redaction step (`servicekit.redaction`) scrubs credentials and every
configured secret from every string before it is written.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog

from servicekit.redaction import redact_value

# `warn` is node_exporter's spelling, `warning` Python's: both mean the same level.
LEVELS = ("debug", "info", "warn", "warning", "error")
# `auto` is pretty on a terminal and the service's machine format everywhere else.
FORMATS = ("auto", "logfmt", "json", "console")

LogFormat = Literal["logfmt", "json"]

_NUMBERS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: scrub every string value (the last step before rendering)."""
    for key, value in event_dict.items():
        event_dict[key] = redact_value(value)
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


def _renderer(fmt: str | None, machine: LogFormat) -> structlog.typing.Processor:
    if fmt in (None, "auto"):
        fmt = "console" if sys.stderr.isatty() else machine
    if fmt == "json":
        return structlog.processors.JSONRenderer(sort_keys=True)
    if fmt == "logfmt":
        return structlog.processors.LogfmtRenderer(key_order=["ts", "level", "event"])
    return structlog.dev.ConsoleRenderer()


def setup(level: str = "info", fmt: str | None = "auto", machine: LogFormat = "logfmt") -> None:
    """Configure structlog and route the standard library's loggers (aiohttp) through it.

    `fmt` `auto` (or None) picks a coloured console renderer when stderr is a terminal
    and `machine` otherwise, so a service manager's journal always gets parseable lines.
    """
    number = _NUMBERS.get(level, logging.INFO)
    renderer = _renderer(fmt, machine)
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(number),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name, summarise_exception],
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
