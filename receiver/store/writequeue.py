"""The writer's queue, the same for every backend: jobs are taken in batches (everything
queued while the last batch committed, up to a limit) until the `None` that closes it.

Under sustained load a batch also waits until `linger` seconds after the previous one
began, so jobs arriving a fraction of a millisecond apart share one commit. Each commit
rewrites every page it touched (on SQLite a WAL frame per page, each copied back by the
next checkpoint; on PostgreSQL a round trip and a WAL record), and a webhook's processing
and its delivery record touch tens of pages: measured at 4 connections, one commit per
job wrote 200 kB per webhook. A quiet writer does not wait: the first job after a pause
runs at once, so a lone webhook's latency is unchanged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TypeVar

J = TypeVar("J")
LINGER = 0.005


async def batches(
    queue: asyncio.Queue[J | None], limit: int, linger: float = LINGER
) -> AsyncIterator[list[J]]:
    """Each batch of queued jobs; ends after the batch before the closing `None`."""
    began = float("-inf")
    while True:
        job = await queue.get()
        if job is None:
            return
        wait = began + linger - time.monotonic()
        if wait > 0 and queue.qsize() + 1 < limit:
            await asyncio.sleep(wait)
        began = time.monotonic()
        batch = [job]
        while len(batch) < limit and not queue.empty():
            nxt = queue.get_nowait()
            if nxt is None:
                yield batch
                return
            batch.append(nxt)
        yield batch
