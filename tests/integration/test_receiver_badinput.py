"""Bad input gets the right 4xx with a JSON error naming the field — never a 5xx."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.integration.receiver_harness import ReceiverProcess, am_alert, am_payload

pytestmark = pytest.mark.integration
INGEST, VIEWER, OPERATOR = "t-ingest", "t-viewer", "t-operator"


def _sha(t: str) -> str:
    return hashlib.sha256(t.encode()).hexdigest()


@pytest.fixture
async def receiver(tmp_path: Path) -> AsyncIterator[ReceiverProcess]:
    cfg = {
        "auth": {
            "tokens": [
                {"name": "am", "roles": ["ingest"], "sha256": _sha(INGEST)},
                {"name": "view", "roles": ["viewer"], "sha256": _sha(VIEWER)},
                {"name": "op", "roles": ["operator"], "sha256": _sha(OPERATOR)},
            ]
        },
        "web": {"max_body_bytes": 1048576},
    }
    r = await ReceiverProcess(tmp_path, cfg).start()
    yield r
    r.stop()


def _good() -> dict[str, Any]:
    return am_payload("g", [am_alert("a1")])


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    doc = _good()
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


CASES: list[tuple[str, bytes, str, str | None, int, str | None]] = [
    ("malformed json", b'{"version": "4",', "application/json", INGEST, 400, "$"),
    ("not utf-8", b"\xff\xfe{}", "application/json", INGEST, 400, "$"),
    ("array body", b"[]", "application/json", INGEST, 400, "$"),
    (
        "labels wrong type",
        json.dumps(_with(["alerts", 0, "labels"], ["x"])).encode(),
        "application/json",
        INGEST,
        400,
        "alerts[0].labels",
    ),
    (
        "label value number",
        json.dumps(_with(["alerts", 0, "labels", "n"], 3)).encode(),
        "application/json",
        INGEST,
        400,
        "alerts[0].labels.n",
    ),
    (
        "alerts not a list",
        json.dumps(_with(["alerts"], {})).encode(),
        "application/json",
        INGEST,
        400,
        "alerts",
    ),
    (
        "bad status",
        json.dumps(_with(["alerts", 0, "status"], "burning")).encode(),
        "application/json",
        INGEST,
        400,
        "alerts[0].status",
    ),
    (
        "bad timestamp",
        json.dumps(_with(["alerts", 0, "startsAt"], "yesterday")).encode(),
        "application/json",
        INGEST,
        400,
        "alerts[0].startsAt",
    ),
    (
        "missing groupKey",
        json.dumps(_with(["groupKey"], KeyError)).encode(),
        "application/json",
        INGEST,
        400,
        "groupKey",
    ),
    (
        "missing startsAt",
        json.dumps(_with(["alerts", 0, "startsAt"], KeyError)).encode(),
        "application/json",
        INGEST,
        400,
        "alerts[0].startsAt",
    ),
    (
        "unknown version",
        json.dumps(_with(["version"], "3")).encode(),
        "application/json",
        INGEST,
        400,
        "version",
    ),
    ("wrong content type", json.dumps(_good()).encode(), "text/plain", INGEST, 415, "Content-Type"),
    ("no token", json.dumps(_good()).encode(), "application/json", None, 401, "Authorization"),
    (
        "invalid token",
        json.dumps(_good()).encode(),
        "application/json",
        "nope",
        401,
        "Authorization",
    ),
    ("wrong role", json.dumps(_good()).encode(), "application/json", VIEWER, 403, None),
]


async def test_bad_webhooks(receiver: ReceiverProcess) -> None:
    for name, body, ctype, token, code, field in CASES:
        headers = {"Content-Type": ctype}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with (
            aiohttp.ClientSession() as s,
            s.post(receiver.url + "/webhook/alertmanager", data=body, headers=headers) as r,
        ):
            assert r.status == code, (name, await r.text())
            doc = await r.json()
        assert doc["error"], name
        if field is not None:
            assert doc["field"] == field, name
    assert await receiver.metric('tocsin_receiver_webhooks_total{code="400"}') == 11


async def test_50mb_body_is_refused(receiver: ReceiverProcess) -> None:
    body = b'{"version": "4", "pad": "' + b"x" * (50 << 20) + b'"}'
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {INGEST}"}
    async with (
        aiohttp.ClientSession() as s,
        s.post(receiver.url + "/webhook/alertmanager", data=body, headers=headers) as r,
    ):
        assert r.status == 413
        assert "limit" in (await r.json())["error"]

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(50):
            yield b"x" * (1 << 20)

    # Chunked (no Content-Length): the cap applies while reading.
    async with (
        aiohttp.ClientSession() as s,
        s.post(receiver.url + "/webhook/alertmanager", data=chunks(), headers=headers) as r,
    ):
        assert r.status == 413
    assert await receiver.metric('tocsin_receiver_webhooks_total{code="413"}') == 2


async def test_api_roles_and_errors(receiver: ReceiverProcess) -> None:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {INGEST}"}
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            receiver.url + "/webhook/alertmanager", data=json.dumps(_good()), headers=headers
        ) as r,
    ):
        assert r.status == 200
    incident = await receiver.incident_id("g", VIEWER)
    assert (await receiver.api("GET", "/api/v1/incidents"))[0] == 401
    assert (await receiver.api("GET", "/api/v1/incidents", INGEST))[0] == 403
    status, doc = await receiver.api("GET", "/api/v1/incidents?state=bogus", VIEWER)
    assert status == 400 and doc["field"] == "state"
    status, doc = await receiver.api("GET", '/api/v1/incidents?match=group="g"', VIEWER)
    assert status == 200 and doc["count"] == 1
    status, doc = await receiver.api("GET", '/api/v1/incidents?match=group!~"g|h"', VIEWER)
    assert status == 200 and doc["count"] == 0
    assert (await receiver.api("POST", f"/api/v1/incidents/{incident}/ack", VIEWER))[0] == 403
    assert (await receiver.api("POST", "/api/v1/incidents/999/ack", OPERATOR))[0] == 404
    assert (await receiver.api("POST", "/api/v1/incidents/x/ack", OPERATOR))[0] == 400
    status, doc = await receiver.api(
        "POST", f"/api/v1/incidents/{incident}/ack", OPERATOR, {"comment": 5}
    )
    assert status == 400 and doc["field"] == "comment"
    status, doc = await receiver.api("POST", f"/api/v1/incidents/{incident}/ack", OPERATOR)
    assert status == 200 and doc["acked_by"] == "op"
    assert (await receiver.api("POST", f"/api/v1/incidents/{incident}/ack", OPERATOR))[0] == 409
    assert (await receiver.api("GET", "/api/v1/audit", OPERATOR))[0] == 403
    assert (await receiver.api("GET", "/api/v1/deadletters", OPERATOR))[0] == 403
    assert (await receiver.api("GET", "/api/v1/nope", OPERATOR))[0] == 404
    assert await receiver.metric('tocsin_receiver_webhooks_total{code="500"}') == 0
