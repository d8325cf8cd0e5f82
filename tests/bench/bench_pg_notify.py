"""LISTEN/NOTIFY between two receivers' notifiers (receiver.store.pgnotify) on a throwaway
PostgreSQL: the time from one replica handing over an SSE event to the other replica's
callback having it, against a plain `SELECT 1` round trip on the same server in the same
run (the least any cross-replica signal can cost). Events are sent one at a time, so the
figures are latency, not throughput."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import psycopg

from receiver.store.pgnotify import Hooks, PgNotifier
from tests.postgres import Cluster, find_pg_binary

ROUNDS = 300


def _ignore(*_: Any) -> None:
    return None


async def _round_trips(dsn: str) -> list[float]:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        times = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            await conn.execute("SELECT 1")
            times.append(time.perf_counter() - start)
        return times


async def _notify_latencies(dsn: str) -> list[float]:
    arrived: asyncio.Queue[float] = asyncio.Queue()
    sender = PgNotifier(dsn, Hooks(_ignore, _ignore, _ignore, _ignore))
    arrive = Hooks(_ignore, lambda *_: arrived.put_nowait(time.perf_counter()), _ignore, _ignore)
    receiver = PgNotifier(dsn, arrive)
    sender.start()
    receiver.start()
    try:
        while not (receiver.listening and sender.listening):
            await asyncio.sleep(0.05)
        times = []
        for i in range(ROUNDS):
            start = time.perf_counter()
            sender.event("incident", {"change": "acknowledged", "id": i})
            times.append(await asyncio.wait_for(arrived.get(), 10) - start)
        return times
    finally:
        await sender.stop()
        await receiver.stop()


def _p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


def main() -> int:
    if not (find_pg_binary("initdb") and find_pg_binary("pg_ctl")):
        print("skipped: PostgreSQL (initdb, pg_ctl) not installed")
        return 0
    cluster = Cluster()
    try:
        dsn = cluster.create_database()
        ref = asyncio.run(_round_trips(dsn))
        got = asyncio.run(_notify_latencies(dsn))
    finally:
        cluster.stop()
    print(f"{'':28} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'SELECT 1 round trip (ref)':28} {_p(ref, 0.5):8.2f} {_p(ref, 0.99):8.2f}")
    print(f"{'event → other replica':28} {_p(got, 0.5):8.2f} {_p(got, 0.99):8.2f}")
    ratio = statistics.median(got) / statistics.median(ref)
    print(f"median ratio event/round trip: {ratio:.1f}x  ({ROUNDS} rounds each)")
    return 0
