"""Chaos: three receivers on one PostgreSQL, fed by a clustered Alertmanager pair (each
posting to a different receiver), a burst of 2,000 alerts with updates and resolutions,
a random receiver SIGKILLed every 1-3 s and restarted on its port (and, in the second
variant, PostgreSQL restarted once mid-burst). Afterwards every alert's firing and its
resolution reached the webhook sink, re-sends stay within one lost lease each, and no
notification is a dead letter."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest

from tests.conftest import require_binary, require_postgres
from tests.integration.chaos import (
    Burst,
    Monkey,
    notified,
    post_burst,
    sends_per_key,
    unexplained_resends,
)
from tests.integration.receiver_harness import Alertmanager, ReceiverProcess, Sink, wait_for
from tests.metrics import parse_series, selected
from tests.postgres import Cluster
from tests.procs import free_port

pytestmark = [
    pytest.mark.integration,
    pytest.mark.own_backend("three receivers on a PostgreSQL server of its own, restarted"),
]
# 40 groups of 50: Alertmanager sends one webhook per group and change, about 160 in all
# (plus retries), each carrying its whole group.
GROUPS, PER_GROUP = 40, 50
REPLICAS = 3


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    """A PostgreSQL server for this test alone: the second variant restarts it."""
    require_postgres()
    cluster = Cluster()
    yield cluster
    cluster.stop()


def _config(sink: Sink, dsn: str) -> dict[str, Any]:
    return {
        "channels": [{"name": "hook", "type": "webhook", "url": sink.url}],
        "default_route": {"channels": ["hook"]},
        # Every change is its own notification (no storm folding) so each can be checked.
        "storm": {"threshold": 0},
        # Long enough that a live receiver never loses a lease to a slow send on a busy
        # machine, short enough that a killed one's rows are retried within the wait.
        "outbox": {"lease": "10s", "backoff_initial": "1s", "max_attempts": 50},
        "storage": {"backend": "postgres", "dsn": dsn},
    }


async def _am_sent(am: Alertmanager) -> tuple[float, float]:
    """(webhook requests, failed requests) of one Alertmanager, from its own metrics."""
    async with aiohttp.ClientSession() as s, s.get(am.url + "/metrics") as r:
        series = parse_series(await r.text())
    sent = selected(series, 'alertmanager_notification_requests_total{integration="webhook"}')
    failed = selected(
        series, 'alertmanager_notification_requests_failed_total{integration="webhook"}'
    )
    return sent, failed


def _db_counts(dsn: str) -> tuple[dict[str, int], dict[str, int]]:
    with psycopg.connect(dsn) as conn:
        webhooks = conn.execute("SELECT state, COUNT(*) FROM webhooks GROUP BY state").fetchall()
        rows = conn.execute("SELECT state, COUNT(*) FROM notifications GROUP BY state").fetchall()
    return {str(s): int(n) for s, n in webhooks}, {str(s): int(n) for s, n in rows}


@pytest.mark.parametrize("restart_postgres", [False, True], ids=["kills", "kills+pg-restart"])
async def test_no_alert_lost_under_kills(
    tmp_path: Path, own_cluster: Cluster, restart_postgres: bool
) -> None:
    binary = require_binary("alertmanager")
    t0 = time.monotonic()
    # A consumer that takes its time keeps sends in flight, so that kills land between a
    # send reaching it and the attempt being recorded: the re-send path gets exercised.
    sink = await Sink(delay=0.5).start()
    dsn = own_cluster.create_database()
    cfg = _config(sink, dsn)
    replicas = []
    for i in range(REPLICAS):
        (tmp_path / f"r{i}").mkdir()
        replicas.append(await ReceiverProcess(tmp_path / f"r{i}", cfg).start())
    gossip = [free_port(), free_port()]
    ams = [
        Alertmanager(
            binary,
            tmp_path,
            replicas[i].url + "/webhook/alertmanager",
            group_wait="1s",
            group_interval="2s",
            cluster_port=gossip[i],
            peers=[gossip[1 - i]],
        )
        for i in range(2)
    ]
    midway = asyncio.Event()
    monkey = Monkey(replicas, midway, own_cluster if restart_postgres else None)
    stop = asyncio.Event()
    burst = Burst(GROUPS, PER_GROUP)
    try:
        for am in ams:
            await am.start()
        chaos = asyncio.create_task(monkey.run(stop))
        await post_burst(ams, burst, pause=4, midway=midway)
        # Keep killing while Alertmanager flushes the last wave and the outbox drains it.
        await asyncio.sleep(8)
        stop.set()
        await chaos
        everyone = set(burst.identities())

        def complete() -> bool:
            firing, resolved = notified(sink)
            return firing >= everyone and resolved >= everyone

        await wait_for(complete, 180, interval=1, what="every alert's firing and resolution")

        def drained() -> bool:
            return _db_counts(dsn)[1].get("pending", 0) == 0

        await wait_for(drained, 60, interval=1, what="an empty outbox")
        await asyncio.sleep(3)  # time for a late duplicate send to show up
        firing, resolved = notified(sink)
        missing = sorted((everyone - firing) | (everyone - resolved))
        assert missing == [], f"{len(missing)} alerts missing, first {missing[:5]}"
        webhooks, rows = _db_counts(dsn)
        assert rows.get("dead_letter", 0) == 0, rows
        assert set(rows) == {"delivered"}, rows
        with psycopg.connect(dsn) as conn:
            keys = {str(k) for (k,) in conn.execute("SELECT idempotency_key FROM notifications")}
        sends = sends_per_key(sink)
        assert set(sends) == keys  # every row delivered, nothing the outbox did not hold
        bad = unexplained_resends(sink, monkey)
        assert bad == [], f"re-sends no lost lease explains: {bad[:5]}"
        if restart_postgres:
            assert monkey.outage is not None
        am_figures = [await _am_sent(am) for am in ams]
        print(
            f"\nchaos: alerts={len(everyone)} webhooks_stored={sum(webhooks.values())}"
            f" am_requests={[int(s) for s, _ in am_figures]}"
            f" am_requests_failed={[int(f) for _, f in am_figures]}"
            f" kills={len(monkey.kills)} pg_restart={monkey.outage is not None}"
            f" notifications={len(keys)} deliveries={len(sink.arrivals)}"
            f" resends={sum(n - 1 for n in sends.values())}"
            f" max_sends_per_key={max(sends.values())}"
            f" wall={time.monotonic() - t0:.0f}s"
        )
    finally:
        stop.set()
        for am in ams:
            am.stop()
        for rx in replicas:
            rx.stop()
        await sink.stop()
