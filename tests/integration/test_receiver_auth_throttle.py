"""Token guessing against a real receiver: a wrong-token flood from 127.0.0.1 is answered
429 with Retry-After once it passes the limit, while clients at 127.0.0.2 (Linux routes
all of 127/8 to loopback) are served normally; counted in metrics, logged once."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from receiver.http.throttle import MAX_FAILURES, WINDOW
from tests.integration.receiver_harness import ReceiverProcess, am_alert, am_payload

pytestmark = pytest.mark.integration

INGEST = "throttle-ingest-5f1c"
ADMIN = "throttle-admin-93ab"
ADMIN_SHA256 = hashlib.sha256(ADMIN.encode()).hexdigest()
CONFIG = {
    "auth": {
        "tokens": [
            {"name": "am", "roles": ["ingest"], "token": INGEST},
            {"name": "adm", "roles": ["admin"], "sha256": ADMIN_SHA256},
        ]
    }
}


async def request(
    session: aiohttp.ClientSession, method: str, url: str, token: str, body: Any = None
) -> tuple[int, dict[str, str], dict[str, Any]]:
    async with session.request(
        method, url, json=body, headers={"Authorization": f"Bearer {token}"}
    ) as r:
        return r.status, dict(r.headers), await r.json(content_type=None)


def session_from(address: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)))


async def test_a_wrong_token_flood_is_throttled_for_its_address_only(tmp_path: Path) -> None:
    rx = await ReceiverProcess(tmp_path, CONFIG).start()
    incidents = rx.url + "/api/v1/incidents"
    webhook = rx.url + "/webhook/alertmanager"
    try:
        async with session_from("127.0.0.1") as attacker, session_from("127.0.0.2") as other:
            answers = [
                await request(attacker, "GET", incidents, f"guess-{i}")
                for i in range(MAX_FAILURES + 20)
            ]
            statuses = [status for status, _, _ in answers]
            assert statuses == [401] * MAX_FAILURES + [429] * 20
            _, headers, doc = answers[-1]
            assert 1 <= int(headers["Retry-After"]) <= WINDOW
            assert doc["field"] == "Authorization" and "too many failed" in doc["error"]

            # Another address is served normally: API and webhooks, and a wrong token
            # there is a plain 401, its own first failure.
            status, _, doc = await request(other, "GET", incidents, ADMIN)
            assert status == 200, doc
            payload = am_payload("throttle", [am_alert("t1")])
            status, _, doc = await request(other, "POST", webhook, INGEST, payload)
            assert status == 200, doc
            status, _, _ = await request(other, "GET", incidents, "guess-from-2")
            assert status == 401

            # From the throttled address even the valid token waits (see README: a
            # different answer would tell a right guess from a wrong one).
            status, headers, _ = await request(attacker, "GET", incidents, ADMIN)
            assert status == 429 and "Retry-After" in headers
    finally:
        rx.stop()
    # Counted, and logged once for the address, with no token in the log.
    log = rx.log()
    throttled = [e for e in map(json.loads, log.splitlines()) if e.get("event") == "auth_throttled"]
    assert [e["client"] for e in throttled] == ["127.0.0.1"]
    for secret in (INGEST, ADMIN, "guess-0", f"guess-{MAX_FAILURES + 19}"):
        assert secret not in log


async def test_throttling_is_counted_in_metrics(tmp_path: Path) -> None:
    rx = await ReceiverProcess(tmp_path, CONFIG).start()
    try:
        async with session_from("127.0.0.1") as attacker:
            for i in range(MAX_FAILURES + 5):
                await request(attacker, "GET", rx.url + "/api/v1/incidents", f"guess-{i}")
        assert await rx.metric("tocsin_receiver_auth_failures_total") == MAX_FAILURES
        assert await rx.metric("tocsin_receiver_auth_throttled_requests_total") == 5
        assert await rx.metric("tocsin_receiver_auth_throttled_addresses_total") == 1
    finally:
        rx.stop()
