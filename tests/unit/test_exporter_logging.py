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


def test_aiohttp_errors_are_one_redacted_line(capsys: pytest.CaptureFixture[str]) -> None:
    from aiohttp.http_exceptions import BadHttpMessage

    setup_logging("info", "logfmt")
    try:
        raise BadHttpMessage("bad char:\n\n  b'Authorization: Basic dXNlcjpw\\x01'")
    except BadHttpMessage:
        logging.getLogger("aiohttp.server").exception("Error handling request from %s", "x")
    out = capsys.readouterr().err
    assert out.count("\n") == 1
    assert "dXNlcjpw" not in out and "Traceback" not in out
    assert "BadHttpMessage: 400" in out and "Authorization: <redacted>" in out


def test_configured_secrets_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    from exporter import logging as exporter_logging
    from exporter.confload import Secret
    from exporter.webconfig import WebConfig

    web = WebConfig(basic_auth_users={"u": Secret("$2y$10$abcdefghijk")})
    exporter_logging.add_secrets(exporter_logging.secrets_in(web))
    try:
        setup_logging("info", "json")
        structlog.get_logger("t").warning("echo", value="hash $2y$10$abcdefghijk here")
        line = json.loads(capsys.readouterr().err)
        assert line["value"] == "hash <redacted> here"
    finally:
        exporter_logging._secrets.clear()
