"""The CLI end to end: check-config, serve safety, defaults to `log`, API wrappers, SSE,
backup while running and restore."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import aiohttp
import pytest

from tests.integration.receiver_harness import (
    ReceiverProcess,
    am_alert,
    am_payload,
    post_webhook,
    wait_for,
)
from tests.procs import REPO, free_port, run_module

pytestmark = pytest.mark.integration


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return run_module(
        "receiver", *args, cwd=cwd, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    )


def test_check_config(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "channels:\n  - {name: h, type: webhook}\nroutes: [{channels: [nope]}]\n"
        "retention: forever\n"
    )
    out = cli("check-config", str(bad))
    assert out.returncode == 3
    assert "channels[0].url: required key is missing (a string)" in out.stderr
    assert "routes[0].channels[0]: unknown channel 'nope'" in out.stderr
    assert "retention: expected a duration" in out.stderr
    assert str(bad) in out.stderr and "Traceback" not in out.stderr
    good = tmp_path / "good.yml"
    good.write_text(
        "channels:\n  - {name: h, type: webhook, url: 'http://127.0.0.1:9/x'}\n"
        "default_route: {channels: [h]}\n"
    )
    out = cli("check-config", str(good))
    assert out.returncode == 0, out.stderr


def test_serve_refuses_open_address_without_tokens(tmp_path: Path) -> None:
    out = cli(
        "serve",
        "--web.listen-address",
        f"0.0.0.0:{free_port()}",
        "--storage.path",
        str(tmp_path / "d"),
        cwd=tmp_path,
    )
    assert out.returncode == 4
    assert "--web.insecure" in out.stderr and "no API tokens" in out.stderr


@pytest.mark.sqlite_only("the embedded defaults (no config file) and a restored SQLite file")
async def test_defaults_cli_sse_backup_restore(tmp_path: Path) -> None:
    receiver = await ReceiverProcess(tmp_path).start()
    url = receiver.url
    try:
        events: list[dict[str, object]] = []

        async def listen() -> None:
            async with aiohttp.ClientSession() as s, s.get(url + "/api/v1/events") as r:
                kind = b""
                async for line in r.content:
                    if line.startswith(b"event: "):
                        kind = line[7:].strip()
                    # Deliveries are events too; this test follows the incident's changes.
                    if line.startswith(b"data: ") and kind == b"incident":
                        events.append(json.loads(line[6:]))

        listener = asyncio.create_task(listen())
        await asyncio.sleep(0.2)
        async with aiohttp.ClientSession() as s:
            status, doc = await post_webhook(
                s,
                url,
                am_payload(
                    "cli",
                    [am_alert("c1", severity="critical")],
                    common={"group": "cli", "severity": "critical"},
                ),
                {"X-Request-ID": "req-cli-1"},
            )
        assert status == 200 and doc["correlation_id"] == "req-cli-1"
        incident = str(await receiver.incident_id("cli"))

        def logged() -> bool:
            for line in receiver.log_path.read_text().splitlines():
                entry = json.loads(line)
                if entry.get("event") == "notification" and entry["channel"] == "log":
                    return bool(entry["correlation_id"] == "req-cli-1")
            return False

        await wait_for(logged, 20, what="log channel line with the correlation id")
        out = await asyncio.to_thread(cli, "incidents", "--url", url, "--severity", "critical")
        assert out.returncode == 0 and "firing" in out.stdout and "group=cli" in out.stdout
        out = await asyncio.to_thread(cli, "ack", incident, "--url", url, "-m", "looking")
        assert out.returncode == 0 and "acknowledged" in out.stdout, out.stderr
        out = await asyncio.to_thread(cli, "unack", incident, "--url", url)
        assert out.returncode == 0 and "firing" in out.stdout
        out = await asyncio.to_thread(cli, "resolve", incident, "--url", url)
        assert out.returncode == 0 and "resolved" in out.stdout
        out = await asyncio.to_thread(cli, "resolve", incident, "--url", url)
        assert out.returncode == 1 and "HTTP 409" in out.stderr
        out = await asyncio.to_thread(cli, "incidents", incident, "--url", url)
        detail = json.loads(out.stdout)
        kinds = [n["kind"] for n in detail["notifications"]]
        assert kinds == ["firing", "acknowledged", "resolved"]  # the ack is announced
        await wait_for(
            lambda: [e["change"] for e in events][-1:] == ["resolved"], 10, what="SSE events"
        )
        assert [e["change"] for e in events] == [
            "created",
            "acknowledged",
            "unacknowledged",
            "resolved",
        ]
        listener.cancel()

        backup_file = tmp_path / "backup.db"
        out = await asyncio.to_thread(
            cli, "backup", "--to", str(backup_file), "--storage.path", str(receiver.storage)
        )
        assert out.returncode == 0, out.stderr
    finally:
        receiver.stop()
    restored = tmp_path / "restored"
    out = cli("restore", "--from", str(backup_file), "--storage.path", str(restored))
    assert out.returncode == 0, out.stderr
    other = await ReceiverProcess(tmp_path / ".", storage=restored).start()
    try:
        status, doc = await other.api("GET", f"/api/v1/incidents/{incident}")
        assert status == 200 and doc["state"] == "resolved"
        assert doc["correlation_id"] == "req-cli-1"
    finally:
        other.stop()
