"""Real parts for receiver tests: the receiver as a subprocess, a webhook sink, Alertmanager
(each started, waited for and stopped through tests/procs.py), webhook payloads."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import yaml
from aiohttp import web

from tests.metrics import parse_series, selected
from tests.procs import REPO, free_port, kill_process, start, stop_process, wait_ready


async def wait_for(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool],
    timeout: float = 30.0,
    interval: float = 0.05,
    what: str = "condition",
) -> None:
    """Poll `check` until true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


@dataclass
class Received:
    body: dict[str, Any]
    headers: dict[str, str]
    at: float
    raw: bytes = b""
    at_perf: float = field(default_factory=time.perf_counter)


@dataclass
class Sink:
    """A local HTTP server standing in for a webhook consumer; scripted answers."""

    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    attempts: list[float] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    # Seconds each request waits before its answer; while `gate` is set but not open,
    # requests wait for it (a consumer that hangs).
    delay: float = 0.0
    gate: asyncio.Event | None = None
    # The Idempotency-Key of every request as it arrived (answered or not).
    arrivals: list[str] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> Sink:
        app = web.Application(client_max_size=64 << 20)
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        self.attempts.append(time.time())
        self.arrivals.append(request.headers.get("Idempotency-Key", ""))
        raw = await request.read()
        body = json.loads(raw)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.gate is not None:
            await self.gate.wait()
        if self.script:
            status, headers = self.script.pop(0)
            if status >= 300:
                return web.Response(status=status, headers=headers, text="scripted failure")
        self.received.append(Received(body, dict(request.headers), time.time(), raw))
        return web.Response(text="ok")

    def of_kind(self, kind: str) -> list[Received]:
        return [r for r in self.received if r.body["kind"] == kind]


@dataclass
class Backend:
    """The storage backend receivers started by the current test use (set by the
    `storage_backend` fixture): SQLite under their storage path, or PostgreSQL at `dsn`
    (one fresh database per test, shared by every receiver the test starts)."""

    name: str = "sqlite"
    dsn: str | None = None


BACKEND = Backend()


def with_backend(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """`config` with the current backend's `storage` section (unchanged on SQLite)."""
    if BACKEND.dsn is None:
        return config
    doc = dict(config or {})
    storage = dict(doc.get("storage") or {})
    storage.update({"backend": "postgres", "dsn": BACKEND.dsn})
    doc["storage"] = storage
    return doc


def store_execute(storage: Path, sql: str, params: Sequence[Any] = ()) -> None:
    """Run one statement (`?` placeholders) on the current backend's database, for a test
    that stages what a stopped receiver will find (a backdated row, an orphaned webhook)."""
    if BACKEND.dsn is not None:
        with psycopg.connect(BACKEND.dsn) as pg:
            pg.execute(sql.replace("?", "%s"), params)
        return
    db = sqlite3.connect(storage / "receiver.db")
    try:
        with db:
            db.execute(sql, params)
    finally:
        db.close()


async def incident_state(receiver: ReceiverProcess, incident: int) -> str:
    """The incident's state as the API answers it."""
    status, doc = await receiver.api("GET", f"/api/v1/incidents/{incident}")
    assert status == 200, doc
    return str(doc["state"])


async def audit_entries(receiver: ReceiverProcess) -> list[dict[str, Any]]:
    """The audit log as the API answers it."""
    status, doc = await receiver.api("GET", "/api/v1/audit")
    assert status == 200, doc
    return list(doc["audit"])


def write_config(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc))
    return path


class ReceiverProcess:
    """`python -m receiver serve` in a subprocess, so it can be SIGKILLed and restarted (its
    log is appended to)."""

    def __init__(
        self,
        tmp: Path,
        config: dict[str, Any] | None = None,
        port: int | None = None,
        storage: Path | None = None,
        args: Sequence[str] = (),
    ) -> None:
        self.tmp = tmp
        self.port = port or free_port()
        self.storage = storage or tmp / "data"
        config = with_backend(config)
        self.config_path = write_config(tmp / "receiver.yml", config) if config else None
        self.args = list(args)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = tmp / "receiver.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        """Everything the receiver wrote so far, over all its runs."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def start_blocking(self) -> ReceiverProcess:
        """Start it and wait until /-/ready answers 200 (for synchronous fixtures)."""
        args = [
            sys.executable,
            "-m",
            "receiver",
            "serve",
            "--storage.path",
            str(self.storage),
            "--web.listen-address",
            f"127.0.0.1:{self.port}",
            "--log.format",
            "json",
            "--log.level",
            "info",
        ]
        if self.config_path:
            args += ["--config.file", str(self.config_path)]
        args += self.args
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = start(args, self.log_path, cwd=self.tmp, env=env, append=True)
        wait_ready(self.proc, self.url, self.log_path, "receiver")
        return self

    async def start(self) -> ReceiverProcess:
        return await asyncio.to_thread(self.start_blocking)

    def reconfigure(self, config: dict[str, Any]) -> None:
        """Replace the config file (with the test's backend) for the next start or reload."""
        doc = with_backend(config) or config
        self.config_path = write_config(self.config_path or self.tmp / "receiver.yml", doc)

    def kill(self) -> None:
        if self.proc is not None:
            kill_process(self.proc)

    def stop(self) -> None:
        """SIGTERM, then wait; SIGKILL after 15 s."""
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                stop_process(self.proc, 15)

    async def api(
        self, method: str, path: str, token: str | None = None, body: Any = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with (
            aiohttp.ClientSession() as s,
            s.request(method, self.url + path, json=body, headers=headers) as r,
        ):
            return r.status, await r.json(content_type=None)

    async def incident_id(self, group: str, token: str | None = None) -> int:
        """The newest incident of a group, once the inbox has processed its webhook."""
        found: list[int] = []

        async def look() -> bool:
            status, doc = await self.api(
                "GET", f'/api/v1/incidents?match=group="{group}"&limit=1', token
            )
            assert status == 200, doc
            found[:] = [i["id"] for i in doc["incidents"]]
            return bool(found)

        await wait_for(look, 30, what=f"incident for group {group}")
        return found[0]

    async def metric(self, selector: str) -> float:
        """Sum of every sample `selector` (`name` or `name{label="value"}`) picks on /metrics."""
        async with aiohttp.ClientSession() as s, s.get(self.url + "/metrics") as r:
            text = await r.text()
        return selected(parse_series(text), selector)


def am_payload(
    group: str,
    alerts: list[dict[str, Any]],
    status: str = "firing",
    receiver: str = "tocsin",
    common: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An Alertmanager version-4 webhook payload."""
    return {
        "version": "4",
        "status": status,
        "receiver": receiver,
        "groupKey": f'{{}}:{{group="{group}"}}',
        "groupLabels": {"group": group},
        "commonLabels": common if common is not None else {"group": group},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example",
        "truncatedAlerts": 0,
        "alerts": alerts,
    }


def am_alert(
    fp: str, status: str = "firing", starts: str = "2024-05-01T10:00:00Z", **labels: str
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "Test", **labels},
        "annotations": {"summary": f"alert {fp}"},
        "startsAt": starts,
        "endsAt": "2024-05-01T11:00:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example/graph",
        "fingerprint": fp,
    }


async def post_webhook(
    session: aiohttp.ClientSession, url: str, payload: Any, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    data = json.dumps(payload).encode()
    async with session.post(
        url + "/webhook/alertmanager",
        data=data,
        headers={"Content-Type": "application/json", **(headers or {})},
    ) as r:
        return r.status, await r.json(content_type=None)


class Alertmanager:
    """Debian's prometheus-alertmanager with a generated config."""

    def __init__(
        self,
        binary: str,
        tmp: Path,
        webhook_url: str,
        group_wait: str = "200ms",
        group_interval: str = "1s",
        repeat_interval: str = "1h",
        peers: list[int] | None = None,
        cluster_port: int | None = None,
    ) -> None:
        self.binary = binary
        self.port = free_port()
        self.dir = tmp / f"am-{self.port}"
        self.dir.mkdir(parents=True)
        self.cluster_port = cluster_port
        self.peers = peers or []
        cfg = {
            "route": {
                "receiver": "tocsin",
                "group_by": ["group"],
                "group_wait": group_wait,
                "group_interval": group_interval,
                "repeat_interval": repeat_interval,
            },
            "receivers": [
                {
                    "name": "tocsin",
                    "webhook_configs": [
                        {"url": webhook_url, "send_resolved": True, "max_alerts": 0}
                    ],
                }
            ],
        }
        self.config = write_config(self.dir / "alertmanager.yml", cfg)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> Alertmanager:
        cluster = f"127.0.0.1:{self.cluster_port}" if self.cluster_port else ""
        args = [
            self.binary,
            f"--config.file={self.config}",
            f"--storage.path={self.dir}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            f"--cluster.listen-address={cluster}",
        ]
        args += [f"--cluster.peer=127.0.0.1:{p}" for p in self.peers]
        if cluster:
            args += [
                "--cluster.settle-timeout=2s",
                "--cluster.pushpull-interval=1s",
                "--cluster.gossip-interval=50ms",
                "--cluster.peer-timeout=1s",
            ]
        log_path = self.dir / "am.log"
        self.proc = start(args, log_path, append=True)
        await asyncio.to_thread(wait_ready, self.proc, self.url, log_path, "alertmanager")
        return self

    async def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        async with (
            aiohttp.ClientSession() as s,
            s.post(self.url + "/api/v2/alerts", json=alerts) as r,
        ):
            assert r.status == 200, await r.text()

    def stop(self) -> None:
        """SIGTERM, then wait; SIGKILL after 10 s."""
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                stop_process(self.proc, 10)
