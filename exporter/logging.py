"""Structured logging for the exporter: logfmt or JSON lines on stderr, pretty on a TTY."""

from __future__ import annotations

import logging
import sys
from typing import Literal

import structlog

LEVELS = ("debug", "info", "warn", "error")
FORMATS = ("logfmt", "json")

LogFormat = Literal["logfmt", "json"]


def _level_number(level: str) -> int:
    return {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING}.get(
        level, logging.ERROR
    )


def setup_logging(level: str = "info", fmt: str | None = None) -> None:
    """Configure structlog and route the standard library's loggers (aiohttp) through it.

    `fmt=None` picks a coloured console renderer when stderr is a terminal and logfmt
    otherwise, so a service manager's journal always gets machine-readable lines.
    """
    number = _level_number(level)
    renderer: structlog.typing.Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
    elif fmt == "logfmt" or not sys.stderr.isatty():
        renderer = structlog.processors.LogfmtRenderer(key_order=["ts", "level", "event"])
    else:
        renderer = structlog.dev.ConsoleRenderer()
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(number),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(number)
