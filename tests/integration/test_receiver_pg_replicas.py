"""Several receivers on one PostgreSQL database: each notification is sent once (outbox
rows are leased), a group posted to both at once opens one incident (the partial unique
index), a SIGKILLed receiver's send in flight is finished by the other once its lease
expires, with the same idempotency key, a stopping one hands its rows over at once, a
webhook a dead receiver left unprocessed is adopted, and retention runs on one receiver
at a time."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest

from receiver.commands.config_file import default_config
from receiver.outbox.create import insert_notification_row
from receiver.outbox.worker import OutboxWorker
from receiver.pipeline.context import Context
from receiver.store.postgres import PostgresStore
from receiver.store.retention import Pruned, prune_singleton
from receiver.store.singleton import RETENTION_LOCK
from tests.integration.receiver_harness import (
    ReceiverProcess,
    Sink,
    am_alert,
    am_payload,
    post_webhook,
    wait_for,
)
from tests.postgres import Cluster

pytestmark = [
    pytest.mark.integration,
    pytest.mark.own_backend("two receivers on one PostgreSQL database of its own"),
]
GROUPS = 30


def _config(sink: Sink, dsn: str, lease: str = "60s") -> dict[str, Any]:
    return {
        "channels": [{"name": "h", "type": "webhook", "url": sink.url}],
        "default_route": {"channels": ["h"]},
        "storm": {"threshold": 0},
        "outbox": {"lease": lease, "backoff_initial": "1s"},
        "storage": {"backend": "postgres", "dsn": dsn},
    }


async def _pair(tmp_path: Path, cfg: dict[str, Any]) -> list[ReceiverProcess]:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = await ReceiverProcess(tmp_path / "a", cfg).start()
    second = await ReceiverProcess(tmp_path / "b", cfg).start()
    return [first, second]


async def test_two_replicas_send_each_notification_once(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    # A slow consumer keeps every send in flight long enough for the other replica's
    # outbox pass (at least once a second) to see the row still pending.
    sink = await Sink(delay=1.5).start()
    dsn = pg_cluster.create_database()
    replicas = await _pair(tmp_path, _config(sink, dsn))
    try:
        async with aiohttp.ClientSession() as session:
            for i in range(GROUPS):
                rx = replicas[i % 2]
                payload = am_payload(f"g{i}", [am_alert(f"a{i}")])
                assert (await post_webhook(session, rx.url, payload))[0] == 200
            # One group posted to both replicas at once: one incident, one page.
            both = am_payload("both", [am_alert("x")])
            answers = await asyncio.gather(
                *(post_webhook(session, rx.url, both) for rx in replicas)
            )
            assert [a[0] for a in answers] == [200, 200]

        def firing() -> list[str]:
            return [r.body["incident"]["group_labels"]["group"] for r in sink.of_kind("firing")]

        expected = {f"g{i}" for i in range(GROUPS)} | {"both"}
        await wait_for(lambda: set(firing()) == expected, 60, interval=0.2, what="every page")
        await asyncio.sleep(4)  # time for any duplicate send to show up
        assert Counter(firing()) == Counter(expected), Counter(firing())
        assert len(sink.arrivals) == len(set(sink.arrivals)) == len(expected)
        with psycopg.connect(dsn) as conn:
            open_both = conn.execute(
                "SELECT COUNT(*) FROM incidents WHERE state <> 'resolved'"
            ).fetchone()
            states = dict(
                conn.execute("SELECT state, COUNT(*) FROM notifications GROUP BY state").fetchall()
            )
        assert open_both == (len(expected),)
        assert states == {"delivered": len(expected)}, states
    finally:
        for rx in replicas:
            rx.stop()
        await sink.stop()


async def test_escalation_steps_and_repeats_fire_once_across_replicas(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    # Both replicas' schedulers see every step come due at the same moment; only one
    # pass may queue it. Repeats every second make many such moments.
    sink = await Sink().start()
    dsn = pg_cluster.create_database()
    cfg = _config(sink, dsn)
    cfg["channels"].append({"name": "later", "type": "webhook", "url": sink.url})
    cfg["escalation_policies"] = [
        {
            "name": "oncall",
            "steps": [
                {"after": "0s", "channels": ["h"]},
                {"after": "2s", "channels": ["later"]},
            ],
            "repeat_last_every": "1s",
        }
    ]
    cfg["default_route"] = {"escalation": "oncall"}
    replicas = await _pair(tmp_path, cfg)
    groups = [f"e{i}" for i in range(8)]
    try:
        async with aiohttp.ClientSession() as session:
            for i, group in enumerate(groups):
                payload = am_payload(group, [am_alert(group)])
                assert (await post_webhook(session, replicas[i % 2].url, payload))[0] == 200

        def escalations(group: str) -> int:
            return sum(
                1
                for r in sink.of_kind("escalation")
                if r.body["incident"]["group_labels"]["group"] == group
            )

        await wait_for(
            lambda: all(escalations(g) >= 6 for g in groups), 60, what="steps and repeats"
        )
        async with aiohttp.ClientSession() as session:
            for i, group in enumerate(groups):
                payload = am_payload(group, [am_alert(group, status="resolved")], "resolved")
                assert (await post_webhook(session, replicas[i % 2].url, payload))[0] == 200
        await wait_for(lambda: len(sink.of_kind("resolved")) >= len(groups), 30, what="resolved")
        with psycopg.connect(dsn) as conn:
            rows = conn.execute(
                "SELECT incident_id, COUNT(*), MAX(created_at) - MIN(created_at)"
                " FROM notifications WHERE kind = 'escalation' GROUP BY incident_id"
            ).fetchall()
        # One pass per due moment: n escalation rows of one incident span at least n - 1
        # repeat intervals (1 s each); two passes queuing the same moment would put two
        # rows a few milliseconds apart and break the bound.
        assert len(rows) == len(groups), rows
        for incident, count, span in rows:
            assert span >= (count - 1) * 0.9, (incident, count, span)
        assert len(sink.arrivals) == len(set(sink.arrivals)), "an idempotency key sent twice"
    finally:
        for rx in replicas:
            rx.stop()
        await sink.stop()


async def test_a_killed_replicas_send_is_finished_by_the_other(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    gate = asyncio.Event()
    sink = await Sink(gate=gate).start()
    dsn = pg_cluster.create_database()
    first, second = await _pair(tmp_path, _config(sink, dsn, lease="3s"))
    try:
        async with aiohttp.ClientSession() as session:
            payload = am_payload("k", [am_alert("k")])
            assert (await post_webhook(session, first.url, payload))[0] == 200
        # The first replica claimed the row and is sending it: the consumer hangs.
        await wait_for(lambda: len(sink.arrivals) == 1, 30, what="the first send")
        first.kill()
        gate.set()
        await wait_for(lambda: len(sink.arrivals) >= 2, 30, what="the retry by the other")
        key = sink.arrivals[0]
        assert key and sink.arrivals[1] == key, sink.arrivals  # same idempotency key

        def delivered() -> bool:
            with psycopg.connect(dsn) as conn:
                row = conn.execute("SELECT state, lease_owner FROM notifications").fetchone()
            return row == ("delivered", None)

        await wait_for(delivered, 30, interval=0.2, what="the row delivered by the other")
        assert second.proc is not None and second.proc.poll() is None
    finally:
        first.stop()
        second.stop()
        await sink.stop()


async def test_a_replica_stopping_mid_send_hands_the_row_over_at_once(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    """Rows are created leased to the receiver that processed the webhook; one that stops
    with a send in flight leaves the row unleased, so the other sends it at once rather
    than after the lease (10 minutes here)."""
    gate = asyncio.Event()
    sink = await Sink(gate=gate).start()
    dsn = pg_cluster.create_database()
    cfg = _config(sink, dsn, lease="600s")
    cfg["channels"][0]["timeout"] = "60s"  # the hanging send outlasts the stop's wait
    first, second = await _pair(tmp_path, cfg)
    try:
        async with aiohttp.ClientSession() as session:
            payload = am_payload("s", [am_alert("s")])
            assert (await post_webhook(session, first.url, payload))[0] == 200
        await wait_for(lambda: len(sink.arrivals) == 1, 30, what="the first send")
        first.stop()
        assert first.proc is not None and first.proc.returncode == 0
        gate.set()
        await wait_for(lambda: len(sink.arrivals) >= 2, 30, what="the send by the other")
        assert sink.arrivals[1] == sink.arrivals[0]  # same idempotency key
    finally:
        first.stop()
        second.stop()
        await sink.stop()


async def test_a_stopping_worker_releases_leases_of_rows_it_never_started(
    pg_cluster: Cluster,
) -> None:
    """A row committed under the worker's lease while it stops (its dispatch comes too
    late to start it) is released, not left leased until the lease expires."""
    store = await PostgresStore.open(pg_cluster.create_database())
    try:
        ctx = Context.from_config(default_config())
        worker = OutboxWorker(store, ctx, {})
        assert worker.owner is not None
        ctx.lease_owner = worker.owner
        await worker.stop()
        row = partial(
            insert_notification_row,
            incident_id=None,
            channel="log",
            kind="firing",
            correlation_id="c",
            snapshot={},
            now=time.time(),
            lease=(worker.owner, time.time() + 600),
        )
        created = await store.write(row)
        assert created["lease_owner"] == worker.owner
        worker.submit([created])  # too late: the worker is stopping

        def owner(tx: Any) -> Any:
            return tx.one("SELECT lease_owner FROM notifications")

        assert (await store.read(owner)) == {"lease_owner": worker.owner}
        await worker.stop()
        assert (await store.read(owner)) == {"lease_owner": None}
    finally:
        await store.close()


async def test_a_webhook_left_received_by_a_dead_replica_is_adopted(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    """A replica answered 2xx (the row is committed as `received`) and died before
    processing it: a running replica processes it, without any restart."""
    sink = await Sink().start()
    dsn = pg_cluster.create_database()
    receiver = await ReceiverProcess(tmp_path, _config(sink, dsn)).start()
    try:
        body = json.dumps(am_payload("orphan", [am_alert("o")]))
        with psycopg.connect(dsn) as conn:
            conn.execute(
                "INSERT INTO webhooks (received_at, correlation_id, body, state)"
                " VALUES (%s, 'cid-orphan', %s, 'received')",
                (time.time() - 60, body),
            )

        def paged() -> bool:
            return any(
                r.body["incident"]["group_labels"]["group"] == "orphan"
                for r in sink.of_kind("firing")
            )

        await wait_for(paged, 30, interval=0.2, what="the orphaned webhook's page")
        assert "webhooks_adopted" in receiver.log()
    finally:
        receiver.stop()
        await sink.stop()


async def test_retention_runs_on_one_replica_at_a_time(pg_cluster: Cluster) -> None:
    """`prune_singleton` under `pg_try_advisory_xact_lock`: while another session holds
    the lock a receiver prunes nothing; once it is free, it prunes."""
    dsn = pg_cluster.create_database()
    store = await PostgresStore.open(dsn, pool_size=2)
    try:
        with psycopg.connect(dsn) as conn:
            conn.execute(
                "INSERT INTO webhooks (received_at, correlation_id, body, state)"
                " VALUES (1.0, 'old', '', 'processed')"
            )
        job = partial(prune_singleton, older_than=time.time(), shared=True)
        with psycopg.connect(dsn) as holder:
            holder.execute("SELECT pg_advisory_xact_lock(%s)", (RETENTION_LOCK,))
            assert not await store.write(job)
        assert await store.write(job) == Pruned(incidents=0, webhooks=1)
    finally:
        await store.close()
