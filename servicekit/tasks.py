"""Stopping background tasks, as every service component with a loop of its own does."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any


async def cancel_all(tasks: Iterable[asyncio.Task[Any] | None]) -> None:
    """Cancel the tasks, then wait for each to end (their cancellation is not an error);
    None entries (a task never started) are skipped."""
    started = [t for t in tasks if t is not None]
    for task in started:
        task.cancel()
    for task in started:
        with contextlib.suppress(asyncio.CancelledError):
            await task
