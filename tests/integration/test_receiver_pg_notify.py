"""Two receivers on one PostgreSQL database, linked by LISTEN/NOTIFY: a webhook taken by
one wakes the other's outbox worker through a notification, and an SSE client connected
to one sees an acknowledgement made through the other's API."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

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
from tests.integration.test_receiver_events import SSE, TOKEN
from tests.postgres import Cluster

pytestmark = [
    pytest.mark.integration,
    pytest.mark.own_backend("two receivers on one PostgreSQL database of its own"),
]
WOKEN = 'tocsin_receiver_pg_notifications_total{channel="outbox"}'
EVENTS = 'tocsin_receiver_pg_notifications_total{channel="events"}'


def _config(sink: Sink, dsn: str) -> dict[str, Any]:
    return {
        "channels": [{"name": "h", "type": "webhook", "url": sink.url}],
        "default_route": {"channels": ["h"]},
        "storm": {"threshold": 0},
        "auth": {"tokens": [{"name": "ops", "roles": ["admin", "ingest"], "token": TOKEN}]},
        "storage": {"backend": "postgres", "dsn": dsn},
    }


async def _pair(tmp_path: Path, cfg: dict[str, Any]) -> tuple[ReceiverProcess, ReceiverProcess]:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = await ReceiverProcess(tmp_path / "a", cfg).start()
    b = await ReceiverProcess(tmp_path / "b", cfg).start()
    return a, b


HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def _listening(rx: ReceiverProcess) -> bool:
    return '"event": "pg_listening"' in rx.log()


async def test_a_webhook_on_one_replica_wakes_the_other(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    sink = await Sink().start()
    a, b = await _pair(tmp_path, _config(sink, pg_cluster.create_database()))
    try:
        await wait_for(lambda: _listening(b), 10, what="b listening")
        assert await b.metric(WOKEN) == 0
        assert await a.metric(WOKEN) == 0
        async with aiohttp.ClientSession() as session:
            payload = am_payload("g", [am_alert("a")])
            status, _ = await post_webhook(session, a.url, payload, HEADERS)
            assert status == 200

        async def b_woken() -> bool:
            return await b.metric(WOKEN) >= 1

        await wait_for(b_woken, 5, what="b woken by a's notification")
        await wait_for(lambda: _has(sink, "firing"), 10, what="the page")
        # A replica never wakes itself through the database: it skips its own.
        assert await a.metric(WOKEN) == 0
    finally:
        a.stop()
        b.stop()
        await sink.stop()


def _has(sink: Sink, kind: str) -> bool:
    return bool(sink.of_kind(kind))


async def test_an_ack_on_one_replica_reaches_sse_clients_of_the_other(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    sink = await Sink().start()
    a, b = await _pair(tmp_path, _config(sink, pg_cluster.create_database()))
    client = None
    try:
        await wait_for(lambda: _listening(b), 10, what="b listening")
        client = await SSE(b.url).open()
        async with aiohttp.ClientSession() as session:
            payload = am_payload("g", [am_alert("a")])
            assert (await post_webhook(session, a.url, payload, HEADERS))[0] == 200
        incident = await a.incident_id("g", TOKEN)
        status, doc = await a.api("POST", f"/api/v1/incidents/{incident}/ack", TOKEN, {})
        assert status == 200, doc

        async def acked() -> bool:
            return any(
                e["id"] == incident and e["change"] == "acknowledged" for e in client.of("incident")
            )

        await wait_for(acked, 5, what="the ack made on a, seen on b")
        ack = next(e for e in client.of("incident") if e["change"] == "acknowledged")
        assert ack["state"] == "acknowledged"
        # Published once on b: not also echoed back from b's own notification.
        assert [e["change"] for e in client.of("incident")].count("acknowledged") == 1
        assert await b.metric(EVENTS) >= 1
    finally:
        if client is not None:
            await client.close()
        a.stop()
        b.stop()
        await sink.stop()


async def test_the_listeners_reconnect_after_a_database_restart(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    # The session cluster is asked for only so that a missing PostgreSQL skips (or fails
    # under CI) in one place; this test restarts a server, so it starts one of its own.
    cluster = await asyncio.to_thread(Cluster)
    sink = await Sink().start()
    a, b = await _pair(tmp_path, _config(sink, cluster.create_database()))
    client = None
    try:
        await wait_for(lambda: _listening(b), 10, what="b listening")
        await asyncio.to_thread(cluster.stop_server)
        await wait_for(lambda: '"event": "pg_listen_lost"' in b.log(), 10, what="b's loss")
        await asyncio.to_thread(cluster.start)
        await wait_for(lambda: b.log().count('"event": "pg_listening"') == 2, 30, what="b back")
        client = await SSE(b.url).open()
        async with aiohttp.ClientSession() as session:

            async def accepted() -> bool:
                payload = am_payload("after", [am_alert("a")])
                return (await post_webhook(session, a.url, payload, HEADERS))[0] == 200

            await wait_for(accepted, 30, interval=0.5, what="a taking webhooks again")

        async def b_woken() -> bool:
            return await b.metric(WOKEN) >= 1

        await wait_for(b_woken, 10, what="b woken by a's notification after the restart")
        await wait_for(lambda: bool(client.of("incident")), 10, what="a's event on b")
    finally:
        if client is not None:
            await client.close()
        a.stop()
        b.stop()
        await sink.stop()
        await asyncio.to_thread(cluster.stop)
