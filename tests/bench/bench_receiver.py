"""Receiver webhook throughput and latency, side by side with Alertmanager's own API.

Both are driven by `wrk` (a C load generator, so the client is not the bottleneck; its
CPU use is printed) with the same 10 new alerts per request (fresh labels each request,
so neither can short-circuit on a repeat) at 1 and 4 connections, each in a fresh
process, after a warm-up and once that process is idle. The receiver runs durable
(synchronous=FULL: the answer waits for the fsync'd intake commit), creating an
incident and an outbox row per request; since it processes webhooks after answering
them, its figure is the *sustained* rate: webhooks answered during the run divided by
the time until every one was processed and its notification sent (inbox and outbox
empty), so a backlog left at the end counts against it. Alertmanager's
`POST /api/v2/alerts` has finished its work when it answers. End-to-end latency is
webhook POST → notification at a local sink, no group wait.

With PostgreSQL installed (`initdb`/`pg_ctl`), the receiver is measured again on a
throwaway PostgreSQL server (`tests/postgres.py`, one fresh database per run): one
receiver (`receiver-pg` rows) and, at 4 connections, 3 replicas on one database
(`receiver-pg3`, `tests/bench/receiver_replicas.py`), each driven by its own wrk at the
same time (2 + 1 + 1 connections). That row's sustained rate is the 3 runs' requests
over the time until the shared inbox and outbox are empty (the gauges count the shared
tables, so one replica's /metrics tells), its p50 the median of the replicas' p50s and
its p99 the worst replica's p99, its server CPU the 3 receivers' together. Server CPU is
the receiver processes' only; the PostgreSQL server's own (postmaster and backends,
`tests/bench/pgcpu.py`) is the `pg CPU` column, "-" for the rows without one.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.bench import receiver_replicas
from tests.bench.pgcpu import server_cpu_seconds
from tests.bench.wrkload import Load, run_wrk
from tests.conftest import find_binary
from tests.integration.receiver_harness import Alertmanager, ReceiverProcess, Sink
from tests.postgres import Cluster, find_pg_binary

DURATION = 10.0
WARMUP = 2.0
GOALS = {1: 0.25, 4: 0.5}
PG_GOALS = {4: 0.25}
PG3_CONNS = (2, 1, 1)  # connections per replica of the receiver-pg3 row
E2E_GOAL_MS = 50.0
_runs = itertools.count(1)


def _alerts_v2(n: str) -> list[dict[str, Any]]:
    """10 new alerts of group `b{n}`."""
    return [
        {
            "labels": {
                "alertname": "Bench",
                "group": f"b{n}",
                "instance": f"i{k}",
                "severity": "warning",
            },
            "annotations": {"summary": "bench"},
            "startsAt": "2024-05-01T10:00:00Z",
        }
        for k in range(10)
    ]


def _webhook(n: str) -> dict[str, Any]:
    """A webhook of group `b{n}`'s 10 alerts."""
    return {
        "version": "4",
        "status": "firing",
        "receiver": "bench",
        "groupKey": f'{{}}:{{group="b{n}"}}',
        "groupLabels": {"group": f"b{n}"},
        "commonLabels": {"group": f"b{n}", "alertname": "Bench", "severity": "warning"},
        "commonAnnotations": {},
        "externalURL": "http://am",
        "truncatedAlerts": 0,
        "alerts": [
            {
                "status": "firing",
                "labels": a["labels"],
                "annotations": a["annotations"],
                "startsAt": a["startsAt"],
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": f"{n}x{k}",
            }
            for k, a in enumerate(_alerts_v2(n))
        ],
    }


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _settle(pids: list[int], timeout: float = 30.0) -> None:
    """Wait until none of `pids` uses more than 5 % of a CPU over 200 ms."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = sum(_cpu_seconds(p) for p in pids)
        await asyncio.sleep(0.2)
        if sum(_cpu_seconds(p) for p in pids) - before < 0.01:
            return


@dataclass(frozen=True)
class Measured:
    """One target at one connection count."""

    load: Load
    sustained_rps: float
    backlog_at_end: float  # webhooks stored but not yet processed when the load stopped
    server_cpu: float  # CPU seconds per wall-clock second of the run
    db_cpu: float | None = None  # the PostgreSQL server's, likewise; None without one


async def _drained(receiver: ReceiverProcess, timeout: float = 120.0) -> float:
    """Wait until the inbox and outbox are empty; returns when (perf_counter)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inbox = await receiver.metric("tocsin_receiver_inbox_pending")
        outbox = await receiver.metric("tocsin_receiver_outbox_pending")
        if inbox == 0 and outbox == 0:
            return time.perf_counter()
        await asyncio.sleep(0.05)
    raise AssertionError("the receiver did not drain its inbox and outbox in 120 s")


# Runs the load for the given seconds, each call with new request numbers.
Drive = Callable[[float], Awaitable[Load]]


def _one_wrk(wrk: str, url: str, path: str, template: str, conns: int) -> Drive:
    """Drive one target with one wrk of `conns` connections."""

    async def drive(seconds: float) -> Load:
        base = next(_runs) << 32
        return await asyncio.to_thread(run_wrk, wrk, url, path, template, conns, seconds, base)

    return drive


async def _measure(
    drive: Drive,
    pids: list[int],
    receiver: ReceiverProcess | None,
    db: Path | None = None,
) -> Measured:
    """Warm up, drain, settle, then the measured run; `pids` are the server processes
    (their CPU summed), `receiver` one to poll for the drain, `db` a PostgreSQL data
    directory whose server CPU to measure."""
    await _settle(pids)
    await drive(WARMUP)
    if receiver is not None:
        await _drained(receiver)
    await _settle(pids)
    cpu0 = sum(_cpu_seconds(p) for p in pids)
    db0 = server_cpu_seconds(db) if db is not None else 0.0
    t0 = time.perf_counter()
    load = await drive(DURATION)
    t_end = time.perf_counter()
    server_cpu = (sum(_cpu_seconds(p) for p in pids) - cpu0) / (t_end - t0)
    db_cpu = (server_cpu_seconds(db) - db0) / (t_end - t0) if db is not None else None
    if receiver is None:
        return Measured(load, load.rps, 0, server_cpu, db_cpu)
    backlog = await receiver.metric("tocsin_receiver_inbox_pending")
    done = await _drained(receiver)
    return Measured(load, load.requests / (done - t0), backlog, server_cpu, db_cpu)


async def _measure_replicas(
    wrk: str, tmp: Path, config: dict[str, Any], cluster: Cluster
) -> Measured:
    """The receiver-pg3 row: 3 replicas on one fresh database, driven at once."""
    storage = {"backend": "postgres", "dsn": cluster.create_database()}
    (tmp / "pg3").mkdir()
    replicas = await receiver_replicas.start_replicas(
        tmp / "pg3", {**config, "storage": storage}, len(PG3_CONNS)
    )
    try:
        pids = [r.proc.pid for r in replicas if r.proc is not None]
        targets = list(zip(replicas, PG3_CONNS, strict=True))
        template = json.dumps(_webhook(N))

        async def drive(seconds: float) -> Load:
            return await receiver_replicas.drive(
                wrk, targets, "/webhook/alertmanager", template, seconds, _runs
            )

        return await _measure(drive, pids, replicas[0], cluster.data)
    finally:
        receiver_replicas.stop_replicas(replicas)


async def _end_to_end(
    tmp: Path, storage: dict[str, Any] | None = None, samples: int = 300
) -> dict[str, float]:
    sink = await Sink().start()
    cfg: dict[str, Any] = {
        "channels": [{"name": "hook", "type": "webhook", "url": sink.url}],
        "default_route": {"channels": ["hook"]},
        "storm": {"threshold": 0},
    }
    if storage is not None:
        cfg["storage"] = storage
    where = tmp / ("e2e-pg" if storage else "e2e")
    where.mkdir()
    receiver = await ReceiverProcess(where, cfg).start()
    arrived: dict[str, float] = {}

    def seen() -> None:
        for r in sink.received[len(arrived) :]:
            arrived[r.headers.get("X-Request-ID", "")] = r.at_perf

    lat: list[float] = []
    try:
        async with aiohttp.ClientSession() as s:
            for i in range(samples):
                cid = f"e2e-{i}"
                t0 = time.perf_counter()
                async with s.post(
                    receiver.url + "/webhook/alertmanager",
                    data=json.dumps(_webhook(f"e2e{i}")),
                    headers={"Content-Type": "application/json", "X-Request-ID": cid},
                ) as r:
                    assert r.status == 200
                while cid not in arrived:
                    await asyncio.sleep(0.0005)
                    seen()
                lat.append(arrived[cid] - t0)
    finally:
        receiver.stop()
        await sink.stop()
    lat.sort()
    return {"p50_ms": 1000 * statistics.median(lat), "p99_ms": 1000 * lat[int(len(lat) * 0.99)]}


N = "@@N@@"  # replaced by wrk with a request number (see tests.bench.wrkload)


async def _run() -> int:
    binary = find_binary("alertmanager")
    wrk = find_binary("wrk")
    if binary is None or wrk is None:
        print("bench_receiver needs prometheus-alertmanager and wrk (apt-get install both)")
        return 1
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        cfg = {
            "channels": [{"name": "quiet", "type": "log", "level": "debug"}],
            "default_route": {"channels": ["quiet"]},
            "storm": {"threshold": 0},
        }
        hook = json.dumps(_webhook(N))
        results: dict[tuple[str, int], Measured] = {}
        cluster = Cluster() if find_pg_binary("initdb") and find_pg_binary("pg_ctl") else None
        # Each measurement gets a fresh process, so neither carries the alerts of the
        # runs before it (Alertmanager keeps every one in memory until it resolves).
        for conns in (1, 4):
            (tmp / f"rx{conns}").mkdir()
            receiver = await ReceiverProcess(tmp / f"rx{conns}", cfg).start()
            try:
                assert receiver.proc is not None
                results["receiver", conns] = await _measure(
                    _one_wrk(wrk, receiver.url, "/webhook/alertmanager", hook, conns),
                    [receiver.proc.pid],
                    receiver,
                )
            finally:
                receiver.stop()
            am = await Alertmanager(
                binary, tmp, "http://127.0.0.1:9/none", group_wait="1h", group_interval="1h"
            ).start()
            try:
                assert am.proc is not None
                results["alertmanager", conns] = await _measure(
                    _one_wrk(wrk, am.url, "/api/v2/alerts", json.dumps(_alerts_v2(N)), conns),
                    [am.proc.pid],
                    None,
                )
            finally:
                am.stop()
            if cluster is not None:
                pg = {"backend": "postgres", "dsn": cluster.create_database()}
                (tmp / f"pg{conns}").mkdir()
                receiver = await ReceiverProcess(tmp / f"pg{conns}", {**cfg, "storage": pg}).start()
                try:
                    assert receiver.proc is not None
                    results["receiver-pg", conns] = await _measure(
                        _one_wrk(wrk, receiver.url, "/webhook/alertmanager", hook, conns),
                        [receiver.proc.pid],
                        receiver,
                        cluster.data,
                    )
                finally:
                    receiver.stop()
        if cluster is not None:
            results["receiver-pg3", sum(PG3_CONNS)] = await _measure_replicas(
                wrk, tmp, cfg, cluster
            )
        e2e = {"sqlite": await _end_to_end(tmp)}
        if cluster is not None:
            storage = {"backend": "postgres", "dsn": cluster.create_database()}
            e2e["postgres"] = await _end_to_end(tmp, storage)
            cluster.stop()
    _report(results, e2e)
    return 0


def _report(results: dict[tuple[str, int], Measured], e2e: dict[str, dict[str, float]]) -> None:
    print(
        f"{'target':<13}{'conns':>6}{'answered/s':>11}{'sustained/s':>12}{'p50 ms':>8}"
        f"{'p99 ms':>8}{'non-2xx':>8}{'backlog':>8}{'server CPU':>11}{'pg CPU':>7}"
        f"{'wrk CPU':>8}"
    )
    for (target, conns), m in results.items():
        db_cpu = "-" if m.db_cpu is None else f"{m.db_cpu:.0%}"
        print(
            f"{target:<13}{conns:>6}{m.load.rps:>11.0f}{m.sustained_rps:>12.0f}"
            f"{m.load.p50_ms:>8.2f}{m.load.p99_ms:>8.2f}{m.load.non2xx + m.load.errors:>8}"
            f"{m.backlog_at_end:>8.0f}{m.server_cpu:>10.0%}{db_cpu:>7}{m.load.client_cpu:>8.0%}"
        )
    for conns, goal in GOALS.items():
        reference = results["alertmanager", conns].sustained_rps
        ratio = results["receiver", conns].sustained_rps / reference
        met = "met" if ratio >= goal else "NOT met"
        print(
            f"receiver sustained / alertmanager req/s at {conns} conn(s): {ratio:.2f}x"
            f" (goal >= {goal}x: {met})"
        )
    for conns in (1, 4):
        if ("receiver-pg", conns) not in results:
            continue
        reference = results["alertmanager", conns].sustained_rps
        ratio = results["receiver-pg", conns].sustained_rps / reference
        goal = PG_GOALS.get(conns)
        met = "" if goal is None else f" (goal >= {goal}x: {'met' if ratio >= goal else 'NOT met'})"
        print(
            f"receiver-pg (1 replica) sustained / alertmanager at {conns} conn(s):"
            f" {ratio:.2f}x{met}"
        )
    pg3 = sum(PG3_CONNS)
    if ("receiver-pg3", pg3) in results:
        ratio = (
            results["receiver-pg3", pg3].sustained_rps / results["alertmanager", pg3].sustained_rps
        )
        met = "met" if ratio >= PG_GOALS[pg3] else "NOT met"
        print(
            f"receiver-pg (3 replicas) sustained / alertmanager at {pg3} conn(s):"
            f" {ratio:.2f}x (goal >= {PG_GOALS[pg3]}x: {met})"
        )
    for backend, figures in e2e.items():
        met = "met" if figures["p99_ms"] < E2E_GOAL_MS else "NOT met"
        print(
            f"end-to-end webhook -> sink ({backend}): p50 {figures['p50_ms']:.1f} ms,"
            f" p99 {figures['p99_ms']:.1f} ms (goal p99 < {E2E_GOAL_MS:.0f} ms: {met})"
        )


def main() -> int:
    """Run the receiver benchmark; prints figures, ratios and goals."""
    return asyncio.run(_run())


if __name__ == "__main__":
    raise SystemExit(main())
