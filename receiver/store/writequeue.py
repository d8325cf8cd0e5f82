"""The writer's queue, the same for every backend: jobs are taken in batches (everything
queued while the last batch committed, up to a limit) until the `None` that closes it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TypeVar

J = TypeVar("J")


async def batches(queue: asyncio.Queue[J | None], limit: int) -> AsyncIterator[list[J]]:
    """Each batch of queued jobs; ends after the batch before the closing `None`."""
    while True:
        job = await queue.get()
        if job is None:
            return
        batch = [job]
        while len(batch) < limit and not queue.empty():
            nxt = queue.get_nowait()
            if nxt is None:
                yield batch
                return
            batch.append(nxt)
        yield batch
