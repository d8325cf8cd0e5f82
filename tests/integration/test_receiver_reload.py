"""Reloading the configuration of a running receiver: SIGHUP under load, a broken file,
`POST /-/reload` and its role, settings that need a restart, escalations in flight, and
the shipped systemd unit's ExecReload run for real."""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import require_binary
from tests.integration.receiver_harness import (
    ReceiverProcess,
    Sink,
    am_alert,
    am_payload,
    post_webhook,
    wait_for,
    with_backend,
    write_config,
)
from tests.procs import REPO, free_port

pytestmark = pytest.mark.integration

SUCCESS = "tocsin_receiver_config_last_reload_successful"
SUCCESS_AT = "tocsin_receiver_config_last_reload_success_timestamp_seconds"
UNIT = REPO / "deploy" / "systemd" / "tocsin-receiver.service"


def two_channels(a: Sink, b: Sink, route_to: str, **extra: Any) -> dict[str, Any]:
    """`a` always, `b` (another sink) only when routed to, the default route to `route_to`."""
    channels = [{"name": "a", "type": "webhook", "url": a.url}]
    if route_to == "b":
        channels.append({"name": "b", "type": "webhook", "url": b.url})
    return {
        "channels": channels,
        "default_route": {"channels": [route_to]},
        "storm": {"threshold": 0},
        **extra,
    }


def groups_at(sink: Sink, channel: str) -> list[str]:
    return [
        r.body["incident"]["group_labels"]["group"]
        for r in sink.received
        if r.body["channel"] == channel and r.body["kind"] == "firing"
    ]


async def reloaded_since(receiver: ReceiverProcess, before: float) -> None:
    async def done() -> bool:
        return await receiver.metric(SUCCESS_AT) > before

    await wait_for(done, 30, what="the reload to succeed")


async def test_sighup_under_load_loses_nothing_and_routes_anew(tmp_path: Path) -> None:
    a, b = await Sink().start(), await Sink().start()
    receiver = await ReceiverProcess(tmp_path, two_channels(a, b, "a")).start()
    sent: list[tuple[str, bool]] = []  # (group, sent after the reload was confirmed)
    failures: list[str] = []
    reloaded = asyncio.Event()
    stop = asyncio.Event()

    async def sender(n: int, session: aiohttp.ClientSession) -> None:
        i = 0
        while not stop.is_set():
            group = f"s{n}-{i}"
            after = reloaded.is_set()
            try:
                status, doc = await post_webhook(
                    session, receiver.url, am_payload(group, [am_alert(group)])
                )
            except (aiohttp.ClientError, OSError) as exc:
                failures.append(f"{group}: {exc!r}")
            else:
                if status != 200:
                    failures.append(f"{group}: {status} {doc}")
            sent.append((group, after))
            i += 1

    try:
        async with aiohttp.ClientSession() as session:
            senders = [asyncio.create_task(sender(n, session)) for n in range(4)]
            await wait_for(lambda: len(sent) >= 40, 30, what="webhooks before the reload")
            before = await receiver.metric(SUCCESS_AT)
            write_config(tmp_path / "receiver.yml", with_backend(two_channels(a, b, "b")))
            assert receiver.proc is not None
            receiver.proc.send_signal(signal.SIGHUP)
            await reloaded_since(receiver, before)
            reloaded.set()
            mark = len(sent)
            await wait_for(lambda: len(sent) >= mark + 40, 30, what="webhooks after the reload")
            stop.set()
            await asyncio.gather(*senders)
        assert failures == []
        assert receiver.proc.poll() is None, "the receiver exited on SIGHUP"
        everything = {g for g, _ in sent}
        await wait_for(
            lambda: set(groups_at(a, "a")) | set(groups_at(b, "b")) >= everything,
            60,
            what="a notification for every webhook",
        )
        at_a, at_b = groups_at(a, "a"), groups_at(b, "b")
        # Nothing lost, nothing sent twice: one firing notification per webhook.
        assert sorted(at_a + at_b) == sorted(everything)
        assert at_a, "nothing went out under the old config"
        assert {g for g, after in sent if after} <= set(at_b)
        assert await receiver.metric(SUCCESS) == 1
        # A row dispatched before the worker knew its new channel would be one.
        assert await receiver.metric("tocsin_receiver_dead_letters") == 0
        assert "Traceback" not in receiver.log()
    finally:
        receiver.stop()
        await a.stop()
        await b.stop()


async def test_escalation_in_flight_follows_the_new_policy(tmp_path: Path) -> None:
    a, b = await Sink().start(), await Sink().start()

    def config(second: str) -> dict[str, Any]:
        cfg = two_channels(a, b, "b")
        cfg["default_route"] = {"escalation": "oncall"}
        cfg["escalation_policies"] = [
            {
                "name": "oncall",
                "steps": [
                    {"after": "0s", "channels": ["a"]},
                    {"after": "8s", "channels": [second]},
                ],
            }
        ]
        return cfg

    receiver = await ReceiverProcess(tmp_path, config("a")).start()
    try:
        async with aiohttp.ClientSession() as s:
            status, _ = await post_webhook(s, receiver.url, am_payload("esc", [am_alert("e")]))
            assert status == 200
            await wait_for(lambda: groups_at(a, "a") == ["esc"], 30, what="step 0")
            write_config(tmp_path / "receiver.yml", with_backend(config("b")))
            status, doc = await receiver.api("POST", "/-/reload")
            assert status == 200, doc
        await wait_for(lambda: b.of_kind("escalation"), 30, what="step 1 on the new channel")
        assert a.of_kind("escalation") == []
        assert b.of_kind("escalation")[0].body["escalation_step"] == 1
    finally:
        receiver.stop()
        await a.stop()
        await b.stop()


async def test_a_broken_file_keeps_the_running_config(tmp_path: Path) -> None:
    a, b = await Sink().start(), await Sink().start()
    good = two_channels(a, b, "a")
    receiver = await ReceiverProcess(tmp_path, good).start()
    path = tmp_path / "receiver.yml"
    try:
        before = await receiver.metric(SUCCESS_AT)
        path.write_text(
            "channels: [{name: b, type: webhook, url: 'http://127.0.0.1:9/'}]\n"
            "routes: [{channels: [nope]}]\nretention: forever\n"
        )
        assert receiver.proc is not None
        receiver.proc.send_signal(signal.SIGHUP)

        async def refused() -> bool:
            return await receiver.metric(SUCCESS) == 0

        await wait_for(refused, 30, what="the reload to fail")
        log = receiver.log()
        assert "routes[0].channels[0]: unknown channel 'nope'" in log
        assert "retention: expected a duration" in log
        assert "config_reload_failed" in log
        assert await receiver.metric(SUCCESS_AT) == before
        async with aiohttp.ClientSession() as s:
            status, _ = await post_webhook(s, receiver.url, am_payload("old", [am_alert("o")]))
            assert status == 200
        await wait_for(lambda: groups_at(a, "a") == ["old"], 30, what="the old route")

        # A template problem is refused the same way, through the endpoint.
        templates = tmp_path / "templates" / "slack"
        templates.mkdir(parents=True)
        (templates / "default.text.txt").write_text("{% if %}")
        broken = two_channels(a, b, "a", templates_dir=str(templates.parent))
        broken["channels"].append(
            {"name": "chat", "type": "slack", "webhook_url": "http://127.0.0.1:9/services/x"}
        )
        write_config(path, with_backend(broken))
        status, doc = await receiver.api("POST", "/-/reload")
        assert status == 500 and doc["field"] == "config", doc
        assert any("slack/default.text.txt" in p and "syntax" in p for p in doc["problems"])
        assert await receiver.metric(SUCCESS) == 0

        write_config(path, with_backend(two_channels(a, b, "b")))
        status, doc = await receiver.api("POST", "/-/reload")
        assert status == 200 and doc == {"status": "success", "restart_required": []}, doc
        assert await receiver.metric(SUCCESS) == 1
        assert await receiver.metric(SUCCESS_AT) > before
    finally:
        receiver.stop()
        await a.stop()
        await b.stop()


async def test_reload_endpoint_needs_admin_and_keeps_fixed_settings(tmp_path: Path) -> None:
    a, b = await Sink().start(), await Sink().start()
    tokens = {
        "auth": {
            "tokens": [
                {"name": "root", "roles": ["admin"], "token": "admin-secret-1"},
                {"name": "ops", "roles": ["operator"], "token": "operator-secret-1"},
            ]
        }
    }
    port = free_port()
    # Not loopback: a config without tokens must not be reloaded into it.
    receiver = ReceiverProcess(
        tmp_path,
        two_channels(a, b, "a", **tokens),
        port=port,
        args=["--web.listen-address", f"0.0.0.0:{port}"],
    )
    await receiver.start()
    path = tmp_path / "receiver.yml"
    try:
        assert (await receiver.api("POST", "/-/reload"))[0] == 401
        status, doc = await receiver.api("POST", "/-/reload", "operator-secret-1")
        assert status == 403 and "'admin'" in doc["error"], doc
        status, doc = await receiver.api("POST", "/-/reload", "admin-secret-1")
        assert status == 200 and doc["restart_required"] == [], doc

        write_config(
            path, with_backend(two_channels(a, b, "a", storage={"synchronous": "NORMAL"}, **tokens))
        )
        status, doc = await receiver.api("POST", "/-/reload", "admin-secret-1")
        assert status == 200 and doc["restart_required"] == ["storage"], doc
        assert "config_reload_restart_required" in receiver.log()

        write_config(path, with_backend(two_channels(a, b, "b")))
        status, doc = await receiver.api("POST", "/-/reload", "admin-secret-1")
        assert status == 500, doc
        assert any("auth.tokens" in p and "non-loopback" in p for p in doc["problems"])
        assert await receiver.metric(SUCCESS) == 0
        # The old tokens still guard the receiver.
        assert (await receiver.api("POST", "/-/reload"))[0] == 401
        assert "admin-secret-1" not in receiver.log()
    finally:
        receiver.stop()
        await a.stop()
        await b.stop()


def test_systemd_unit_verifies_with_exec_reload(tmp_path: Path) -> None:
    analyze = require_binary("systemd-analyze")
    text = UNIT.read_text()
    assert "ExecReload=" in text
    copy = tmp_path / UNIT.name
    copy.write_text(text.replace("/usr/local/bin/tocsin-receiver", "/bin/true"))
    result = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60, check=False
    )
    problems = [line for line in (result.stdout + result.stderr).splitlines() if "tocsin" in line]
    assert problems == [], problems


def _exec_reload(config: Path, pid: int) -> list[subprocess.CompletedProcess[str]]:
    """Run the unit's ExecReload= lines in order, as systemd does (stop at a failure)."""
    done: list[subprocess.CompletedProcess[str]] = []
    for line in UNIT.read_text().splitlines():
        if not line.startswith("ExecReload="):
            continue
        argv = shlex.split(line.removeprefix("ExecReload="))
        argv = [
            str(config) if a == "/etc/tocsin/receiver.yml" else str(pid) if a == "$MAINPID" else a
            for a in argv
        ]
        if argv[0] == "/usr/local/bin/tocsin-receiver":
            argv = [sys.executable, "-m", "receiver", *argv[1:]]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        result = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
        done.append(result)
        if result.returncode != 0:
            break
    return done


async def test_the_units_exec_reload_reloads_a_running_receiver(tmp_path: Path) -> None:
    a, b = await Sink().start(), await Sink().start()
    receiver = await ReceiverProcess(tmp_path, two_channels(a, b, "a")).start()
    path = tmp_path / "receiver.yml"
    assert receiver.proc is not None
    try:
        path.write_text("routes: [{channels: [nope]}]\n")
        before = await receiver.metric(SUCCESS_AT)
        steps = await asyncio.to_thread(_exec_reload, path, receiver.proc.pid)
        assert len(steps) == 1 and steps[0].returncode == 3, steps
        assert "unknown channel 'nope'" in steps[0].stderr
        assert await receiver.metric(SUCCESS) == 1  # never signalled

        write_config(path, with_backend(two_channels(a, b, "b")))
        steps = await asyncio.to_thread(_exec_reload, path, receiver.proc.pid)
        assert [s.returncode for s in steps] == [0, 0], steps
        await reloaded_since(receiver, before)
        async with aiohttp.ClientSession() as s:
            status, _ = await post_webhook(s, receiver.url, am_payload("new", [am_alert("n")]))
            assert status == 200
        await wait_for(lambda: groups_at(b, "b") == ["new"], 30, what="the new route")
        assert receiver.proc.poll() is None
    finally:
        receiver.stop()
        await a.stop()
        await b.stop()
