"""Hostile input against a real receiver process: never a 5xx, never a secret in the log,
slow or half-open connections are cut, and SIGTERM ends open event streams."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import signal
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import using_backend
from tests.integration.receiver_harness import (
    ReceiverProcess,
    am_alert,
    am_payload,
    post_webhook,
    wait_for,
)

pytestmark = pytest.mark.integration

INGEST = "ingestsecret456"  # configured in plain text (a Secret): must never be logged
ADMIN = "adminsecret789"
BASIC = "dXNlcjpwYXNzd29yZDEyMw=="  # user:password123


CONFIG = {
    "auth": {
        "tokens": [
            {"name": "am", "roles": ["ingest"], "token": INGEST},
            {
                "name": "adm",
                "roles": ["admin"],
                "sha256": hashlib.sha256(ADMIN.encode()).hexdigest(),
            },
        ]
    }
}


@pytest.fixture(scope="module")
def rx(
    tmp_path_factory: pytest.TempPathFactory, module_backend: tuple[str, str | None]
) -> Iterator[ReceiverProcess]:
    tmp = tmp_path_factory.mktemp("hostile")
    with using_backend(*module_backend):
        r = ReceiverProcess(tmp, CONFIG, args=["--web.idle-timeout=1s"]).start_blocking()
    yield r
    r.stop()


def raw_request(port: int, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """Send bytes exactly as given (no client-side validation); the status and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


async def call(
    rx: ReceiverProcess,
    method: str,
    path: str,
    token: str | None = ADMIN,
    data: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    hdrs = {"Authorization": f"Bearer {token}"} if token else {}
    hdrs.update(headers or {})
    async with (
        aiohttp.ClientSession() as s,
        s.request(method, rx.url + path, data=data, headers=hdrs) as r,
    ):
        return r.status, await r.json(content_type=None)


async def incident(rx: ReceiverProcess, group: str) -> int:
    payload = json.dumps(am_payload(group, [am_alert(f"{group}-1")])).encode()
    status, doc = await call(
        rx, "POST", "/webhook/alertmanager", INGEST, payload, {"Content-Type": "application/json"}
    )
    assert status == 200, doc
    return await rx.incident_id(group, ADMIN)


async def test_ids_beyond_int64_or_not_ascii_digits_are_400(rx: ReceiverProcess) -> None:
    for path in (
        "/api/v1/incidents/99999999999999999999999",
        "/api/v1/incidents/9223372036854775808",
        "/api/v1/incidents/%C2%B2",
        "/api/v1/incidents/%D9%A3",
        "/api/v1/incidents/-1",
    ):
        status, doc = await call(rx, "GET", path)
        assert (status, doc.get("field")) == (400, "id"), (path, doc)
    for path in (
        "/api/v1/incidents/9223372036854775808/ack",
        "/api/v1/incidents/99999999999999999999999/unack",
        "/api/v1/deadletters/99999999999999999999999/replay",
    ):
        status, doc = await call(rx, "POST", path)
        assert (status, doc.get("field")) == (400, "id"), (path, doc)
    status, doc = await call(rx, "GET", "/api/v1/incidents/123456789012345678")
    assert (status, doc.get("field")) == (404, "id")


async def test_deep_nesting_is_400_not_500(rx: ReceiverProcess) -> None:
    deep = b"[" * 100_000
    ctype = {"Content-Type": "application/json"}
    status, doc = await call(rx, "POST", "/webhook/alertmanager", INGEST, deep, ctype)
    assert (status, doc.get("field")) == (400, "$"), doc
    # Under the API's 64 KiB cap, still far deeper than any decoder recursion limit.
    deep = b"[" * 60_000
    status, doc = await call(rx, "POST", "/api/v1/incidents/1/ack", ADMIN, deep, ctype)
    assert (status, doc.get("field")) == (400, "$"), doc


async def test_raw_byte_bearer_tokens_are_401(rx: ReceiverProcess) -> None:
    for token in (b"\xff\xfe", "pässwörd".encode(), b"adminsecret789\xc3\xa9"):
        head = (
            b"GET /api/v1/incidents HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Authorization: Bearer " + token + b"\r\n\r\n"
        )
        status, body = raw_request(rx.port, head)
        assert status == 401, body
        assert json.loads(body)["field"] == "Authorization"


async def test_api_body_cap_is_413_and_never_parses_a_prefix(rx: ReceiverProcess) -> None:
    inc = await incident(rx, "cap")
    ctype = {"Content-Type": "application/json"}
    comment = json.dumps({"comment": "x" * (2 << 20)}).encode()
    status, doc = await call(rx, "POST", f"/api/v1/incidents/{inc}/ack", ADMIN, comment, ctype)
    assert (status, doc.get("field")) == (413, "body"), doc
    spaces = b" " * (12 << 20)
    status, doc = await call(rx, "POST", f"/api/v1/incidents/{inc}/ack", ADMIN, spaces, ctype)
    assert (status, doc.get("field")) == (413, "body"), doc

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b" " * (1 << 20)

    status, doc = await call(rx, "POST", f"/api/v1/incidents/{inc}/ack", ADMIN, chunked(), ctype)
    assert (status, doc.get("field")) == (413, "body"), doc
    status, doc = await call(rx, "GET", f"/api/v1/incidents/{inc}")
    assert doc["state"] == "firing", "a refused body must not act"


async def test_content_type_comment_length_and_bodies(rx: ReceiverProcess) -> None:
    inc = await incident(rx, "ctype")
    body = json.dumps({"comment": "mine"}).encode()
    status, doc = await call(
        rx, "POST", f"/api/v1/incidents/{inc}/ack", ADMIN, body, {"Content-Type": "text/plain"}
    )
    assert (status, doc.get("field")) == (415, "Content-Type"), doc
    long = json.dumps({"comment": "y" * 2001}).encode()
    ctype = {"Content-Type": "application/json"}
    status, doc = await call(rx, "POST", f"/api/v1/incidents/{inc}/ack", ADMIN, long, ctype)
    assert (status, doc.get("field")) == (400, "comment"), doc
    status, doc = await call(rx, "POST", "/api/v1/deadletters/1/replay", ADMIN, b"junk", ctype)
    assert (status, doc.get("field")) == (400, "body"), doc
    # No body at all is fine where the body is optional.
    status, doc = await call(rx, "POST", f"/api/v1/incidents/{inc}/ack")
    assert status == 200 and doc["state"] == "acknowledged", doc


async def test_conflicts_and_unknown_ids_name_their_field(rx: ReceiverProcess) -> None:
    inc = await incident(rx, "conflict")
    status, doc = await call(rx, "POST", f"/api/v1/incidents/{inc}/unack")
    assert (status, doc.get("field")) == (409, "state"), doc
    status, doc = await call(rx, "POST", "/api/v1/deadletters/123456/replay")
    assert (status, doc.get("field")) == (404, "id"), doc


async def test_limit_is_validated_alike_on_every_list(rx: ReceiverProcess) -> None:
    for path in ("/api/v1/incidents", "/api/v1/audit", "/api/v1/deadletters"):
        for bad in ("-5", "0", "abc", "99999999999", "%EF%BC%91"):
            status, doc = await call(rx, "GET", f"{path}?limit={bad}")
            assert (status, doc.get("field")) == (400, "limit"), (path, bad, doc)
        status, doc = await call(rx, "GET", f"{path}?limit=1")
        assert status == 200, (path, doc)
    for bad in ("nonsense", 'a=~"("'):
        status, doc = await call(rx, "GET", f"/api/v1/incidents?match={bad}")
        assert (status, doc.get("field")) == (400, "match"), (bad, doc)


async def test_partial_headers_are_cut(rx: ReceiverProcess) -> None:
    socks = []
    for i in range(20):
        s = socket.create_connection(("127.0.0.1", rx.port), timeout=10)
        s.sendall(b"GET /api/v1/incidents HTTP/1.1\r\nHost: x\r\nX-Slow-" + str(i).encode())
        socks.append(s)
    # A client that keeps sending header lines (slowloris) is cut too.
    trickle = socket.create_connection(("127.0.0.1", rx.port), timeout=10)
    trickle.sendall(b"GET / HTTP/1.1\r\n")
    cut = False
    for _ in range(40):
        await asyncio.sleep(0.25)
        try:
            trickle.sendall(b"X-A: b\r\n")
        except (BrokenPipeError, ConnectionResetError):
            cut = True
            break
    trickle.close()
    assert cut, "a connection trickling headers was held for 10 s"
    for s in socks:
        try:
            assert s.recv(1) == b"", "server answered a request it never fully received"
        except ConnectionResetError:
            pass
        finally:
            s.close()
    status, _ = await call(rx, "GET", "/api/v1/incidents?limit=1")
    assert status == 200


async def test_credentials_never_reach_the_log(rx: ReceiverProcess) -> None:
    before = len(rx.log().splitlines())
    heads = [
        b"Authorization: Bearer " + INGEST.encode() + b"\x01",
        b"Authorization: Basic " + BASIC.encode() + b"\x01",
        b"X-Token: " + INGEST.encode() + b"\x7f",
    ]
    for head in heads:
        status, body = raw_request(
            rx.port, b"GET /api/v1/incidents HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n\r\n"
        )
        assert status == 400, body

    def logged() -> bool:
        return sum("aiohttp.server" in line for line in rx.log().splitlines()[before:]) >= len(
            heads
        )

    await wait_for(logged, 10, what="aiohttp's error lines")
    lines = rx.log().splitlines()
    for line in lines:
        doc = json.loads(line)  # every line, aiohttp's included, is one JSON document
        assert isinstance(doc, dict) and "event" in doc and "level" in doc
    text = "\n".join(lines)
    for secret in (INGEST, BASIC, "password123", ADMIN):
        assert secret not in text
    assert "Traceback" not in text
    ours = [json.loads(line) for line in lines[before:] if "aiohttp.server" in line]
    assert all(d["error"].startswith("BadHttpMessage") for d in ours), ours


async def test_sigterm_ends_open_event_streams(tmp_path: Path) -> None:
    rx = await ReceiverProcess(tmp_path, CONFIG).start()
    assert rx.proc is not None
    try:
        async with (
            aiohttp.ClientSession() as s,
            s.get(rx.url + "/api/v1/events", headers={"Authorization": f"Bearer {ADMIN}"}) as r,
        ):
            assert r.status == 200
            assert await r.content.readline() == b": connected\n"
            rx.proc.send_signal(signal.SIGTERM)
            # Without the shutdown hook the stream stays open until aiohttp gives up.
            rest = await asyncio.wait_for(r.content.read(), 10)
        assert b"event: shutdown" in rest
        code = await asyncio.to_thread(rx.proc.wait, 10)
        assert code == 0, rx.log_path.read_text()[-2000:]
        events = [json.loads(line)["event"] for line in rx.log().splitlines()]
        assert "sse_streams_ending" in events and "unhandled_error" not in events
    finally:
        rx.stop()


# Limits and timeouts on webhook bodies (issue 16): a receiver with a short body read
# timeout, room for a 40 MB body, and a route whose first notification is an hour away,
# so a big webhook's cost is its ingestion and processing, not the outbox's.
BODY_TIMEOUT = 2.0
LIMITS = {
    "web": {"body_read_timeout": f"{BODY_TIMEOUT:g}s", "max_body_bytes": 64 << 20},
    "default_route": {"escalation": "later"},
    "escalation_policies": [{"name": "later", "steps": [{"after": "1h", "channels": ["log"]}]}],
}
WEBHOOK_HEAD = (
    b"POST /webhook/alertmanager HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
)


@pytest.fixture(scope="module")
def lim(
    tmp_path_factory: pytest.TempPathFactory,
    module_backend: tuple[str, str | None],
    request: pytest.FixtureRequest,
) -> Iterator[ReceiverProcess]:
    name, dsn = module_backend
    if dsn is not None:  # a database of its own, apart from `rx`'s
        dsn = request.getfixturevalue("pg_cluster").create_database()
    with using_backend(name, dsn):
        r = ReceiverProcess(tmp_path_factory.mktemp("limits"), LIMITS).start_blocking()
    yield r
    r.stop()


def rss_bytes(rx: ReceiverProcess) -> int:
    assert rx.proc is not None
    status = Path(f"/proc/{rx.proc.pid}/status").read_text()
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(kib) * 1024


async def test_huge_timestamps_are_400_and_memory_stays_bounded(lim: ReceiverProcess) -> None:
    """2 MB timestamps of a valid shape (a long fraction) used to be accepted and kept as
    parse-cache keys: 210 webhooks held 340 MB. Now each is a 400 naming its field."""
    before = rss_bytes(lim)
    fraction = "1" * (2 << 20)
    async with aiohttp.ClientSession() as s:
        for i in range(210):
            alerts = [am_alert(f"ts{i}-{k}") for k in range(4)]
            key = ("startsAt", "endsAt")[i % 2]
            alerts[3][key] = f"2024-05-01T10:00:00.{i:06d}{fraction}Z"
            status, doc = await post_webhook(s, lim.url, am_payload(f"ts{i}", alerts))
            assert (status, doc.get("field")) == (400, f"alerts[3].{key}"), doc
        status, doc = await post_webhook(s, lim.url, am_payload("ts-ok", [am_alert("ok")]))
        assert status == 200, doc
    grown = rss_bytes(lim) - before
    assert grown < 64 << 20, f"RSS grew by {grown >> 20} MiB over 210 refused webhooks"


async def _trickle(port: int) -> tuple[float, bytes]:
    """Announce a 100 kB body and send one byte of it every half second; how long the
    connection stayed open and what the receiver answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(WEBHOOK_HEAD + b"Content-Length: 100000\r\n\r\n")
    start = time.monotonic()
    got = b""
    try:
        while time.monotonic() - start < 30:
            if not got:
                writer.write(b" ")
                await writer.drain()
            try:
                chunk = await asyncio.wait_for(reader.read(65536), 0.5)
            except TimeoutError:
                continue
            if not chunk:
                break
            got += chunk
    except ConnectionError:
        pass
    finally:
        writer.close()
    return time.monotonic() - start, got


async def test_trickling_bodies_are_cut_while_a_normal_client_is_served(
    lim: ReceiverProcess,
) -> None:
    selector = 'tocsin_receiver_request_bodies_incomplete_total{reason="timeout"}'
    timeouts = await lim.metric(selector)
    tasks = [asyncio.create_task(_trickle(lim.port)) for _ in range(200)]
    await asyncio.sleep(BODY_TIMEOUT / 2)
    async with aiohttp.ClientSession() as s:
        status, doc = await post_webhook(s, lim.url, am_payload("normal", [am_alert("n1")]))
    assert status == 200, doc
    results = await asyncio.gather(*tasks)
    held = max(t for t, _ in results)
    assert held < BODY_TIMEOUT + 5, f"a trickling connection was held {held:.1f}s"
    answered = [got for _, got in results if got.startswith(b"HTTP/1.1 408")]
    # A byte sent just as the server closes can make the kernel reset the connection
    # and drop the answer in flight, so a few may see only the close.
    assert len(answered) >= 190, [got[:40] for _, got in results if got not in answered]
    assert all(b'"field": "body"' in got for got in answered)
    assert await lim.metric(selector) == timeouts + 200
    await lim.incident_id("normal")


async def test_client_abort_mid_body_is_no_500_and_one_log_line(lim: ReceiverProcess) -> None:
    selector = 'tocsin_receiver_request_bodies_incomplete_total{reason="client_abort"}'
    aborted = await lim.metric(selector)
    before = len(lim.log().splitlines())
    socks = []
    for i in range(40):
        s = socket.create_connection(("127.0.0.1", lim.port), timeout=10)
        framing = (
            b"Content-Length: 100000\r\n\r\n"
            if i % 2
            else b"Transfer-Encoding: chunked\r\n\r\n1000\r\n"
        )
        s.sendall(WEBHOOK_HEAD + framing + b'{"version": "4", "alerts": [')
        socks.append(s)
    await asyncio.sleep(0.5)
    for s in socks:
        s.close()
    await wait_for(
        lambda: _metric_is(lim, selector, aborted + 40), 10, what="all 40 aborts counted"
    )
    assert await lim.metric('tocsin_receiver_webhooks_total{code="500"}') == 0
    lines = [json.loads(line) for line in lim.log().splitlines()[before:]]
    assert [d["event"] for d in lines].count("request_body_aborted") == 40
    assert not [d for d in lines if "exception" in d or d["level"] == "error"], lines
    assert "Traceback" not in lim.log()


async def _metric_is(rx: ReceiverProcess, selector: str, value: float) -> bool:
    return await rx.metric(selector) == value


async def test_corrupt_gzip_is_400_naming_body(lim: ReceiverProcess) -> None:
    before = len(lim.log().splitlines())
    good = gzip.compress(json.dumps(am_payload("gz", [am_alert("gz1")])).encode())
    gz_head = WEBHOOK_HEAD + b"Content-Encoding: gzip\r\nConnection: close\r\n"
    status, body = raw_request(lim.port, gz_head + b"Content-Length: %d\r\n\r\n" % len(good), good)
    assert status == 200, body
    for bad in (good[:10] + bytes(b ^ 0xFF for b in good[10:]), b"not gzip at all, plainly"):
        head = gz_head + b"Content-Length: %d\r\n\r\n" % len(bad)
        status, body = raw_request(lim.port, head, bad)
        doc = json.loads(body)
        assert (status, doc["field"]) == (400, "body"), doc
        assert "gzip" in doc["error"]
    assert await lim.metric('tocsin_receiver_webhooks_total{code="500"}') == 0
    lines = [json.loads(line) for line in lim.log().splitlines()[before:]]
    assert not [d for d in lines if d["level"] == "error"], lines


async def test_megabyte_webhook_with_few_alerts_does_not_stall_health(
    lim: ReceiverProcess,
) -> None:
    """500 alerts with 80 KB of annotations each (40 MB): under the alert-count threshold,
    so before the fix it was stored and processed on the event loop."""
    alerts = []
    for i in range(500):
        alert = am_alert(f"fat{i}")
        alert["annotations"] = {f"note{k}": f"{i}-{k}-" + "y" * 20_000 for k in range(4)}
        alerts.append(alert)
    body = json.dumps(am_payload("fat", alerts)).encode()
    latencies: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        async with aiohttp.ClientSession() as s:
            while not done.is_set():
                t = time.perf_counter()
                async with s.get(lim.url + "/-/healthy") as r:
                    assert r.status == 200
                latencies.append(time.perf_counter() - t)
                await asyncio.sleep(0.01)

    task = asyncio.create_task(probe())
    start = time.perf_counter()
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            lim.url + "/webhook/alertmanager",
            data=body,
            headers={"Content-Type": "application/json"},
        ) as r,
    ):
        assert r.status == 200, await r.text()
    await lim.incident_id("fat")
    elapsed = time.perf_counter() - start
    done.set()
    await task
    print(f"40 MB webhook: {elapsed:.2f}s to an incident, slowest /-/healthy {max(latencies):.3f}s")
    assert len(latencies) >= 3
    assert max(latencies) < elapsed / 4, (max(latencies), elapsed)
