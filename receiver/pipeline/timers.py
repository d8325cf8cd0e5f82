"""Everything the scheduler fires by stored due time: escalation steps, repeats and
missed heartbeats, in one cheap check and one pass."""

from __future__ import annotations

from receiver.pipeline import escalate
from receiver.pipeline.context import Context
from receiver.pipeline.heartbeat import missed
from receiver.store.base import Tx
from receiver.store.singleton import TIMERS_LOCK, try_singleton


def anything_due(tx: Tx, ctx: Context, now: float) -> bool:
    """Whether `tick` has work (a cheap read)."""
    heartbeats = missed.anything_due(tx, ctx, now)
    return escalate.anything_due(tx, now) or heartbeats


def tick(tx: Tx, ctx: Context, now: float, shared: bool = False) -> int:
    """One scheduler pass; returns how many notifications it queued. On a database
    several receivers share, one of them makes the pass at a time: two passes reading
    the same due step would both queue it."""
    if not try_singleton(tx, TIMERS_LOCK, shared):
        return 0
    return escalate.tick(tx, ctx, now) + len(missed.fire_missed(tx, ctx, now))
