"""Several receiver replicas on one PostgreSQL database, driven at the same time.

Used by `bench_receiver` for its `receiver-pg3` row: the replicas are started one after
another (each takes the migrations' advisory lock in turn, so starting them together
would only make the later ones wait), then one `wrk` per replica posts to it while the
others do, each with its own request-number base so group keys never collide across
replicas. The runs are merged into one `Load`: requests, non-2xx answers and errors
summed; p50 the median of the replicas' p50s and p99 the worst replica's p99 (wrk gives
no histogram to merge, so the true p99 of all requests is not available); wrk's CPU is
that of all its processes together per wall-clock second.
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tests.bench.wrkload import Load, run_wrk
from tests.integration.receiver_harness import ReceiverProcess


async def start_replicas(tmp: Path, config: dict[str, Any], count: int) -> list[ReceiverProcess]:
    """Start `count` receivers with `config`, one after another, each in its own directory
    under `tmp`; the ones already started are stopped if a later one fails to start."""
    replicas: list[ReceiverProcess] = []
    try:
        for i in range(count):
            where = tmp / f"replica{i}"
            where.mkdir()
            replicas.append(await ReceiverProcess(where, config).start())
    except BaseException:
        stop_replicas(replicas)
        raise
    return replicas


def stop_replicas(replicas: Sequence[ReceiverProcess]) -> None:
    """Stop every replica (SIGTERM, then wait)."""
    for replica in replicas:
        replica.stop()


def merge(loads: Sequence[Load], client_cpu: float) -> Load:
    """One `Load` for wrk runs made at the same time (see the module docstring)."""
    return Load(
        requests=sum(x.requests for x in loads),
        # The runs started together and lasted as long, so the total rate is requests
        # over their (common) duration; the longest is taken so the rate is not inflated.
        seconds=max(x.seconds for x in loads),
        non2xx=sum(x.non2xx for x in loads),
        errors=sum(x.errors for x in loads),
        p50_ms=statistics.median(x.p50_ms for x in loads),
        p99_ms=max(x.p99_ms for x in loads),
        client_cpu=client_cpu,
    )


async def drive(
    wrk: str,
    targets: Sequence[tuple[ReceiverProcess, int]],
    path: str,
    template: str,
    seconds: float,
    runs: Iterator[int],
) -> Load:
    """Post `template` bodies for `seconds` to every (replica, connections) of `targets` at
    once, one wrk each; request numbers start at `next(runs) << 32` per wrk."""
    # Each run_wrk reads RUSAGE_CHILDREN around its own wrk, which also picks up the
    # others reaped meanwhile; measured once around all of them instead.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    loads = await asyncio.gather(
        *(
            asyncio.to_thread(
                run_wrk, wrk, replica.url, path, template, conns, seconds, next(runs) << 32
            )
            for replica, conns in targets
        )
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return merge(loads, cpu / wall)
