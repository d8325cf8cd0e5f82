"""Receiver webhook throughput and latency, side by side with Alertmanager's own API.

Both get the same client, the same 10 alerts per request (fresh labels each request, so
neither can short-circuit on a repeat) at 1 and 4 connections, each after a warm-up and
only once both processes are idle (the receiver processes webhooks after answering them,
so its backlog would otherwise eat into Alertmanager's turn). The receiver runs durable
(WAL, synchronous=FULL, group commit), creating an incident and an outbox row per request.
End-to-end latency is webhook POST → notification at a local sink, no group wait.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import find_binary
from tests.integration.receiver_harness import Alertmanager, ReceiverProcess, Sink

DURATION = 5.0
WARMUP = 1.0
_counter = itertools.count()


def _alerts_v2(n: int) -> list[dict[str, Any]]:
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


def _webhook(n: int) -> dict[str, Any]:
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
                "fingerprint": f"{n:08x}{k:08x}",
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


async def _measure(
    url: str, body: Callable[[int], bytes], conns: int, pids: list[int]
) -> dict[str, float]:
    await _settle(pids)
    await _load(url, body, conns, WARMUP)
    await _settle(pids)
    return await _load(url, body, conns, DURATION)


async def _load(
    url: str, body: Callable[[int], bytes], conns: int, duration: float
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conns)) as s:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                data = body(next(_counter))
                t0 = time.perf_counter()
                async with s.post(url, data=data, headers=headers) as r:
                    await r.read()
                    if r.status >= 300:
                        errors += 1
                latencies.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(conns)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
        "errors": errors,
    }


async def _end_to_end(tmp: Path, samples: int = 300) -> dict[str, float]:
    sink = await Sink().start()
    cfg = {
        "channels": [{"name": "hook", "type": "webhook", "url": sink.url}],
        "default_route": {"channels": ["hook"]},
        "storm": {"threshold": 0},
    }
    (tmp / "e2e").mkdir()
    receiver = await ReceiverProcess(tmp / "e2e", cfg).start()
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
                    data=json.dumps(_webhook(10_000_000 + i)),
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


async def _run() -> int:
    binary = find_binary("alertmanager")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        cfg = {
            "channels": [{"name": "quiet", "type": "log", "level": "debug"}],
            "default_route": {"channels": ["quiet"]},
            "storm": {"threshold": 0},
        }
        (tmp / "rx").mkdir()
        receiver = ReceiverProcess(tmp / "rx", cfg)
        await receiver.start()
        am = None
        if binary:
            am = await Alertmanager(
                binary, tmp, "http://127.0.0.1:9/none", group_wait="1h", group_interval="1h"
            ).start()
        results: dict[str, dict[int, dict[str, float]]] = {"receiver": {}, "alertmanager": {}}
        assert receiver.proc is not None
        pids = [receiver.proc.pid]
        if am is not None and am.proc is not None:
            pids.append(am.proc.pid)
        try:
            for conns in (1, 4):
                results["receiver"][conns] = await _measure(
                    receiver.url + "/webhook/alertmanager",
                    lambda n: json.dumps(_webhook(n)).encode(),
                    conns,
                    pids,
                )
                if am is not None:
                    results["alertmanager"][conns] = await _measure(
                        am.url + "/api/v2/alerts",
                        lambda n: json.dumps(_alerts_v2(n)).encode(),
                        conns,
                        pids,
                    )
        finally:
            receiver.stop()
            if am is not None:
                am.stop()
        e2e = await _end_to_end(tmp)
    print(f"{'target':<14}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for target, by_conns in results.items():
        for conns, r in by_conns.items():
            print(
                f"{target:<14}{conns:>6}{r['rps']:>10.0f}{r['p50_ms']:>9.2f}"
                f"{r['p99_ms']:>9.2f}{r['errors']:>8.0f}"
            )
    for conns in (1, 4):
        if conns in results["alertmanager"]:
            ratio = results["receiver"][conns]["rps"] / results["alertmanager"][conns]["rps"]
            print(
                f"ratio receiver/alertmanager req/s at {conns} conn(s): {ratio:.2f} (goal >= 0.5)"
            )
    print(
        f"end-to-end webhook -> sink: p50 {e2e['p50_ms']:.1f} ms, p99 {e2e['p99_ms']:.1f} ms "
        "(goal p99 < 50 ms)"
    )
    return 0


def main() -> int:
    """Run the receiver benchmark; prints figures and ratios."""
    return asyncio.run(_run())


if __name__ == "__main__":
    raise SystemExit(main())
