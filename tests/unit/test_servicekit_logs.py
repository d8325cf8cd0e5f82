"""The shared log set-up: logfmt and JSON lines, level filtering, stdlib (aiohttp) records
on one line, credentials and configured secrets redacted."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from aiohttp.http_exceptions import BadHttpMessage

from exporter.webconfig import WebConfig
from receiver.commands.config_file import default_config
from servicekit import logs, redaction
from servicekit.values import Secret


@pytest.fixture(autouse=True)
def restore() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    saved, pattern = set(redaction._secrets), redaction._pattern
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)
    redaction._secrets.clear()
    redaction._secrets.update(saved)
    redaction._pattern = pattern


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines()]


def test_json_lines_with_level_filter(capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup("warn", "json")
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
    logs.setup("debug", "logfmt")
    structlog.get_logger("t").debug("tick", n=1)
    line = capsys.readouterr().err.strip()
    assert line.startswith("ts=")
    assert "level=debug event=tick n=1" in line


def test_aiohttp_errors_are_one_redacted_line(capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup("info", "logfmt")
    try:
        raise BadHttpMessage("bad char:\n\n  b'Authorization: Basic dXNlcjpw\\x01'")
    except BadHttpMessage:
        logging.getLogger("aiohttp.server").exception("Error handling request from %s", "x")
    out = capsys.readouterr().err
    assert out.count("\n") == 1
    assert "dXNlcjpw" not in out and "Traceback" not in out
    assert "BadHttpMessage: 400" in out and "Authorization: <redacted>" in out


def test_configured_secrets_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    web = WebConfig(basic_auth_users={"u": Secret("$2y$10$abcdefghijk")})
    redaction.add_secrets(redaction.secrets_in(web))
    logs.setup("info", "json")
    structlog.get_logger("t").warning("echo", value="hash $2y$10$abcdefghijk here")
    line = json.loads(capsys.readouterr().err)
    assert line["value"] == "hash <redacted> here"


def test_aiohttp_parser_error_is_one_redacted_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup("info", "json")
    exc = BadHttpMessage("Invalid header value char:\n\n  b'Authorization: Bearer s3cr3t-tok\\x01'")
    try:
        raise exc
    except BadHttpMessage:
        logging.getLogger("aiohttp.server").exception("Error handling request from %s", "1.2.3.4")
    out = capsys.readouterr().err
    assert out.count("\n") == 1 and "s3cr3t-tok" not in out and "Traceback" not in out
    doc = json.loads(out)
    assert doc["logger"] == "aiohttp.server" and doc["level"] == "error"
    assert str(doc["error"]).startswith("BadHttpMessage: 400")
    assert "Authorization: <redacted>" in str(doc["error"])


def test_configured_secrets_are_redacted_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup("info", "json")
    redaction.add_secrets(["hunter2-token", "ab"])
    structlog.get_logger("t").info("saw hunter2-token", detail={"k": ["x hunter2-token y"]}, n=1)
    logging.getLogger("other").warning("raw b'hunter2-token\\xc3' ab")
    first, second = _lines(capsys)
    assert first["event"] == "saw <redacted>" and first["detail"] == {"k": ["x <redacted> y"]}
    # Values too short to be secrets are left alone rather than blanking ordinary words.
    assert second["event"] == "raw b'<redacted>\\xc3' ab"


def test_a_secret_url_is_redacted_in_the_forms_an_echo_shows_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "https://hooks.example/services/T0/B0/SlackPathToken0123456?sig=QuerySig0123"
    redaction.add_secrets([Secret(url)])
    logs.setup("info", "json")
    echoes = [
        url,
        "POST /services/T0/B0/SlackPathToken0123456?sig=QuerySig0123 HTTP/1.1",
        '{"url": "https:\\/\\/hooks.example\\/services\\/T0\\/B0\\/SlackPathToken0123456"}',
        "unknown webhook token SlackPathToken0123456",
        "sig%3DQuerySig0123 and %2Fservices%2FT0%2FB0%2FSlackPathToken0123456",
    ]
    for echo in echoes:
        structlog.get_logger("t").warning("provider answered", error=echo)
    for line in _lines(capsys):
        error = str(line["error"])
        assert "SlackPathToken" not in error and "QuerySig" not in error, error
        assert "<redacted>" in error
    # The short, public parts of the URL are still shown.
    assert redaction.redact_text("GET /services/x") == "GET /services/x"


def test_url_secret_parts_of_a_plain_url_are_its_credentials() -> None:
    url = "http://user:pa%40ss-word@host:8080/hook?token=QueryToken123&v=1"
    parts = redaction.url_secret_parts(url, whole=False)
    assert parts == ["pa%40ss-word", "pa@ss-word", "QueryToken123"]
    assert "/hook" not in redaction.url_secret_parts(url, whole=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: <redacted>"),
        ("got bearer abc.def-ghi from x", "got bearer <redacted> from x"),
        ("https://user:pa55@example.com/x", "https://user:<redacted>@example.com/x"),
        ("url?api_key=XYZ&x=1", "url?api_key=<redacted>&x=1"),
        ("ctl\x01\x1b[31m", "ctl\\x01\\x1b[31m"),
        ("token 'am' lacks the 'ingest' role", "token 'am' lacks the 'ingest' role"),
    ],
)
def test_redact_text(text: str, expected: str) -> None:
    assert redaction.redact_text(text) == expected


def test_secrets_in_finds_every_secret_of_a_config() -> None:
    cfg = default_config()
    assert redaction.secrets_in(cfg) == []
    nested = {"a": [Secret("one-secret")], "b": ({"c": Secret("two-secret")},), "d": "plain"}
    assert sorted(redaction.secrets_in(nested)) == ["one-secret", "two-secret"]


def test_own_tracebacks_stay_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup("info", "json")
    try:
        raise ValueError("boom with Bearer zzz-secret")
    except ValueError:
        structlog.get_logger("t").exception("unhandled_error")
    out = capsys.readouterr().err
    assert out.count("\n") == 1 and "zzz-secret" not in out
    assert "Traceback" in json.loads(out)["exception"]
