"""Finishing a write job on the event loop, the same for every backend: its after-commit
hooks run (one failing hook does not stop the others) and its caller gets the outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import structlog

log = structlog.get_logger("receiver.store")


def run_hooks(callbacks: list[Callable[[], None]]) -> None:
    """Run a committed job's after-commit callbacks, logging (not raising) failures."""
    for cb in callbacks:
        try:
            cb()
        except Exception:
            log.exception("after_commit_failed")


def settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    """Hand a job's result or error to its waiting caller, unless it stopped waiting."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
