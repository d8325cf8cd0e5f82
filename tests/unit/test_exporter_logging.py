"""Log output: logfmt and JSON lines on stderr, level filtering, stdlib loggers included."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from exporter.logging import setup_logging


@pytest.fixture(autouse=True)
def restore() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_with_level_filter(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("warn", "json")
    log = structlog.get_logger("t")
    log.info("hidden")
    log.warning("shown", collector="cpu")
    logging.getLogger("aiohttp.server").error("from stdlib")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["event"] for line in lines] == ["shown", "from stdlib"]
    assert lines[0]["level"] == "warning" and lines[0]["collector"] == "cpu"
    assert lines[1]["logger"] == "aiohttp.server"
    assert all("ts" in line for line in lines)


def test_logfmt(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("debug", "logfmt")
    structlog.get_logger("t").debug("tick", n=1)
    line = capsys.readouterr().err.strip()
    assert line.startswith("ts=")
    assert "level=debug event=tick n=1" in line
