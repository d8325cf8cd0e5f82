"""Probes and process groups end to end: `python -m exporter` scraped over /metrics.

Real inputs only: an aiohttp HTTPS server with a certificate made here, a port nobody
listens on, a slow endpoint, and real `sleep` processes with a distinctive command line.
"""

from __future__ import annotations

import asyncio
import random
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from aiohttp import web

from tests.conftest import self_signed_cert
from tests.metrics import poll, value
from tests.procs import free_port, run_exporter


@dataclass
class Target:
    https: str
    ca: Path


@pytest.fixture
def https_target(tmp_path: Path) -> Iterator[Target]:
    """An aiohttp HTTPS server on its own loop in a thread: /ok and /slow."""
    cert, key = self_signed_cert(tmp_path, "localhost")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound now, so no other process can take the port
    port = sock.getsockname()[1]
    loop = asyncio.new_event_loop()
    started = threading.Event()
    runner_box: list[web.AppRunner] = []

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="database: ok\n")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response(text="late")

    async def serve() -> None:
        app = web.Application()
        app.router.add_get("/ok", ok)
        app.router.add_get("/slow", slow)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        runner = web.AppRunner(app, shutdown_timeout=0.1)
        await runner.setup()
        await web.SockSite(runner, sock, ssl_context=ctx).start()
        runner_box.append(runner)
        started.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(serve()), loop.run_forever()))
    thread.start()
    assert started.wait(10)
    try:
        yield Target(https=f"https://127.0.0.1:{port}", ca=cert)
    finally:
        asyncio.run_coroutine_threadsafe(runner_box[0].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def write_config(tmp_path: Path, collectors: dict[str, object]) -> Path:
    path = tmp_path / "exporter.yml"
    config = {
        "global": {"state_dir": str(tmp_path / "state"), "min_interval": "0s"},
        "collectors": collectors,
    }
    path.write_text(yaml.safe_dump(config))
    return path


def test_probes_through_metrics(tmp_path: Path, https_target: Target) -> None:
    refused = free_port()
    config = write_config(
        tmp_path,
        {
            "probes": {
                "enabled": True,
                "probes": [
                    {
                        "name": "api",
                        "target": f"{https_target.https}/ok",
                        "interval": "1s",
                        "body_regex": "database: ok",
                        "tls": {"ca_file": str(https_target.ca)},
                    },
                    {
                        "name": "unverified",
                        "target": f"{https_target.https}/ok",
                        "interval": "1s",
                    },
                    {
                        "name": "slow",
                        "target": f"{https_target.https}/slow",
                        "interval": "1s",
                        "timeout": "500ms",
                        "tls": {"verify": False},
                    },
                    {"name": "refused", "type": "tcp", "target": f"127.0.0.1:{refused}"},
                    {
                        "name": "handshake",
                        "type": "tls",
                        "target": https_target.https.removeprefix("https://"),
                        "tls": {"ca_file": str(https_target.ca), "server_name": "localhost"},
                    },
                ],
            }
        },
    )
    with run_exporter(
        ["--config.file", str(config), "--collector.disable-defaults"], tmp_path
    ) as exporter:
        names = ("api", "unverified", "slow", "refused", "handshake")
        found = poll(
            exporter.port,
            lambda f: all(value(f, "tocsin_probe_success", probe=n) is not None for n in names),
        )
        assert value(found, "tocsin_probe_success", probe="api") == 1.0, exporter.log()
        assert value(found, "tocsin_probe_http_status_code", probe="api") == 200.0
        not_after = value(found, "tocsin_probe_tls_cert_not_after_timestamp_seconds", probe="api")
        assert not_after is not None and 0 < not_after - time.time() <= 86400
        for phase in ("resolve", "connect", "tls", "processing", "transfer"):
            seconds = value(found, "tocsin_probe_duration_seconds", probe="api", phase=phase)
            assert seconds is not None and seconds >= 0, phase
        # Self-signed and no CA given: verification fails, no response.
        assert value(found, "tocsin_probe_success", probe="unverified") == 0.0
        assert value(found, "tocsin_probe_http_status_code", probe="unverified") == 0.0
        # Timed out: failure, and the scrape itself was not held up by the slow target.
        assert value(found, "tocsin_probe_success", probe="slow") == 0.0
        assert value(found, "tocsin_probe_duration_seconds", probe="slow", phase="tls") is not None
        assert value(found, "tocsin_probe_duration_seconds", probe="slow", phase="transfer") is None
        assert value(found, "tocsin_probe_success", probe="refused") == 0.0
        assert value(found, "tocsin_probe_success", probe="handshake") == 1.0
        assert value(found, "tocsin_exporter_collector_success", collector="probes") == 1.0
        log = exporter.log()
        assert "probe_failed" in log and "refused" in log


def test_process_groups_through_metrics(tmp_path: Path) -> None:
    # `sleep` takes fractional seconds, so a random fraction marks our processes.
    marker = f"86400.{random.randrange(10**6, 10**7)}"
    config = write_config(
        tmp_path,
        {
            "processes": {
                "enabled": True,
                "interval": "200ms",
                "groups": [
                    {
                        "name": "sleepers-{comm}",
                        "comm": "^sleep$",
                        "cmdline": marker.replace(".", r"\."),
                    },
                ],
            }
        },
    )
    sleepers = [subprocess.Popen(["sleep", marker]) for _ in range(3)]
    try:
        with run_exporter(
            ["--config.file", str(config), "--collector.disable-defaults"], tmp_path
        ) as exporter:
            group = "sleepers-sleep"
            found = poll(
                exporter.port, lambda f: value(f, "tocsin_process_count", group=group) == 3.0
            )
            assert value(found, "tocsin_process_count", group=group) == 3.0, exporter.log()
            assert (value(found, "tocsin_process_resident_memory_bytes", group=group) or 0) > 0
            assert value(found, "tocsin_process_threads", group=group) == 3.0
            assert (value(found, "tocsin_process_open_fds", group=group) or 0) >= 3
            oldest = value(found, "tocsin_process_oldest_start_time_seconds", group=group)
            assert oldest is not None and abs(oldest - time.time()) < 120
            cpu = value(found, "tocsin_process_cpu_seconds_total", group=group, mode="user")
            assert cpu is not None

            sleepers[0].kill()
            sleepers[0].wait()
            found = poll(
                exporter.port, lambda f: value(f, "tocsin_process_count", group=group) == 2.0
            )
            assert value(found, "tocsin_process_count", group=group) == 2.0
            after = value(found, "tocsin_process_cpu_seconds_total", group=group, mode="user")
            assert after is not None and after >= cpu
    finally:
        for p in sleepers:
            p.kill()
            p.wait()
