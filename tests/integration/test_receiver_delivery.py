"""Retries (500, then 429 + Retry-After), dead letters and replay through the CLI."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from pathlib import Path

import aiohttp
import pytest

from tests.integration.receiver_harness import (
    ReceiverProcess,
    Sink,
    am_alert,
    am_payload,
    post_webhook,
    wait_for,
)
from tests.procs import run_module

pytestmark = pytest.mark.integration
TOKENS = {"ingest": "ingest-secret", "admin": "admin-secret"}


async def test_retry_after_dead_letter_and_replay(tmp_path: Path) -> None:
    sink = await Sink().start()
    (tmp_path / "admin.token").write_text(TOKENS["admin"] + "\n")
    cfg = {
        "channels": [
            {
                "name": "hook",
                "type": "webhook",
                "url": sink.url,
                "hmac_secret": "shared",
                "headers": {"X-Team": "ops"},
            }
        ],
        "default_route": {"channels": ["hook"]},
        "outbox": {"backoff_initial": "100ms", "max_attempts": 5},
        "auth": {
            "tokens": [
                {
                    "name": "am",
                    "roles": ["ingest"],
                    "sha256": hashlib.sha256(TOKENS["ingest"].encode()).hexdigest(),
                },
                {"name": "alice", "roles": ["admin"], "token_file": str(tmp_path / "admin.token")},
            ]
        },
    }
    receiver = await ReceiverProcess(tmp_path, cfg).start()
    auth = {"Authorization": f"Bearer {TOKENS['ingest']}"}
    try:
        sink.script = [(500, {}), (429, {"Retry-After": "2"})]
        async with aiohttp.ClientSession() as s:
            status, _ = await post_webhook(
                s, receiver.url, am_payload("flaky", [am_alert("f1")]), auth
            )
        assert status == 200
        await wait_for(lambda: len(sink.received) == 1, 30, what="delivery after retries")
        assert len(sink.attempts) == 3
        assert sink.attempts[2] - sink.attempts[1] >= 2.0, "Retry-After not respected"
        got = sink.received[0]
        assert got.headers["X-Team"] == "ops"
        mac = hmac.new(b"shared", got.raw, hashlib.sha256).hexdigest()
        assert got.headers["X-Tocsin-Signature"] == f"sha256={mac}"
        assert got.headers["Idempotency-Key"] == got.body["idempotency_key"]
        incident = await receiver.incident_id("flaky", TOKENS["admin"])
        status, detail = await receiver.api("GET", f"/api/v1/incidents/{incident}", TOKENS["admin"])
        log = detail["notifications"][0]["attempt_log"]
        assert [a["status"] for a in log] == ["500", "429", "200"]
        assert [a["outcome"] for a in log] == ["retry", "retry", "delivered"]
        assert log[1]["retry_after"] == 2.0

        sink.script = [(400, {})]
        async with aiohttp.ClientSession() as s:
            status, _ = await post_webhook(
                s, receiver.url, am_payload("broken", [am_alert("b1")]), auth
            )
        assert status == 200
        token_file = str(tmp_path / "admin.token")

        def dead_listed() -> bool:
            out = run_module(
                "receiver", "deadletters", "--url", receiver.url, "--token-file", token_file
            )
            return out.returncode == 0 and "HTTP 400" in out.stdout

        await wait_for(dead_listed, 30, 0.2, what="dead letter listed by the CLI")
        status, dead = await receiver.api("GET", "/api/v1/deadletters", TOKENS["admin"])
        assert dead["count"] == 1 and dead["deadletters"][0]["attempts"] == 1
        assert await receiver.metric("tocsin_receiver_dead_letters") == 1
        nid = dead["deadletters"][0]["id"]
        out = await asyncio.to_thread(
            run_module,
            "receiver",
            "deadletters",
            "--url",
            receiver.url,
            "--token-file",
            token_file,
            "--replay",
            str(nid),
        )
        assert out.returncode == 0, out.stderr
        await wait_for(lambda: len(sink.received) == 2, 30, what="replayed delivery")
        assert sink.received[1].body["incident"]["group_labels"] == {"group": "broken"}
        status, audit = await receiver.api("GET", "/api/v1/audit", TOKENS["admin"])
        assert audit["audit"][0]["action"] == "replay"
        assert audit["audit"][0]["actor"] == "alice"
        assert await receiver.metric("tocsin_receiver_dead_letters") == 0

        status, doc = await receiver.api("POST", "/api/v1/channels/hook/test", TOKENS["admin"])
        assert status == 200 and doc["ok"] is True and doc["status"] == "200", doc
        assert doc["response"] == "ok" and sink.received[-1].body["kind"] == "test"
        sink.script = [(403, {})]
        status, doc = await receiver.api("POST", "/api/v1/channels/hook/test", TOKENS["admin"])
        assert status == 200 and doc["ok"] is False and doc["state"] == "dead"
        assert "HTTP 403" in doc["error"]
        status, _ = await receiver.api("POST", "/api/v1/channels/nope/test", TOKENS["admin"])
        assert status == 404
        status, _ = await receiver.api("POST", "/api/v1/channels/hook/test", TOKENS["ingest"])
        assert status == 403
        status, audit = await receiver.api("GET", "/api/v1/audit", TOKENS["admin"])
        assert audit["audit"][0]["action"] == "test_notification"
    finally:
        receiver.stop()
        await sink.stop()
