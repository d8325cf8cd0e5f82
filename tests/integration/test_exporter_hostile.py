"""Hostile clients against the exporter: credentials with bad bytes never reach the log
(which stays one JSON document per line), and half-open connections are cut."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from exporter.scrape import Collection, ScrapeCache
from exporter.server import ServerSettings, build_app
from servicekit.runner import make_runner
from tests.conftest import FIXTURES
from tests.procs import free_port, run_exporter

pytestmark = pytest.mark.integration

FAST = ["--collector.disable-defaults", "--collector.loadavg"]


def _bad_request(port: int, header: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        head = b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        s.sendall(head + header + b"\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def test_bad_byte_credentials_are_not_logged(tmp_path: Path) -> None:
    hashed = (FIXTURES / "webconfig" / "basic_auth.yml").read_text().split("prometheus: ")[1]
    web_cfg = tmp_path / "web.yml"
    web_cfg.write_text(f"basic_auth_users:\n  prometheus: {hashed}")
    basic = base64.b64encode(b"prometheus:prom-password").decode()
    args = [*FAST, f"--web.config.file={web_cfg}", "--log.format=json"]
    with run_exporter(args, tmp_path) as proc:
        for header in (
            b"Authorization: Basic " + basic.encode() + b"\x01",
            b"Authorization: Bearer prom-password\x01",
        ):
            assert _bad_request(proc.port, header).startswith(b"HTTP/1.0 400")
        deadline = time.monotonic() + 10
        while proc.log().count("aiohttp.server") < 2:
            assert time.monotonic() < deadline, proc.log()
            time.sleep(0.05)
        text = proc.log()
    lines = text.splitlines()
    docs = [json.loads(line) for line in lines]  # one JSON document per line, aiohttp's too
    assert all("event" in d and "level" in d for d in docs)
    assert basic not in text and "prom-password" not in text and "Traceback" not in text
    errors = [d["error"] for d in docs if d.get("logger") == "aiohttp.server"]
    assert len(errors) == 2 and all(e.startswith("BadHttpMessage") for e in errors), errors


@pytest.fixture
async def exporter_site() -> AsyncIterator[int]:
    settings = ServerSettings(listen=[], collectors=[])
    app = build_app(ScrapeCache(Collection([]), 1.0), settings)
    runner: web.AppRunner = make_runner(app, idle_timeout=0.5)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield port
    await runner.cleanup()


async def test_half_open_connections_are_cut(exporter_site: int) -> None:
    loop = asyncio.get_running_loop()
    socks = []
    for i in range(20):
        s = socket.create_connection(("127.0.0.1", exporter_site), timeout=10)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow-" + str(i).encode())
        socks.append(s)
    socks.append(socket.create_connection(("127.0.0.1", exporter_site), timeout=10))
    for s in socks:
        try:
            assert await loop.run_in_executor(None, s.recv, 1) == b""
        except ConnectionResetError:
            pass
        finally:
            s.close()
