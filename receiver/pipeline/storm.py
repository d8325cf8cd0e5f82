"""Stage storm: more than `threshold` new incidents within `window` seconds put the
receiver in storm mode, where new non-critical incidents go to digests."""

from __future__ import annotations

from receiver.config import StormConfig
from receiver.pipeline.context import Context
from receiver.pipeline.work import Webhook
from receiver.store.base import Tx
from receiver.store.singleton import STORM_LOCK, serialise


def active(tx: Tx, cfg: StormConfig, now: float) -> bool:
    """True while the receiver is in storm mode (non-critical incidents go to digests)."""
    if cfg.threshold <= 0:
        return False
    row = tx.one("SELECT COUNT(*) AS n FROM incidents WHERE created_at >= ?", (now - cfg.window,))
    return row is not None and int(row["n"]) >= cfg.threshold


def check(tx: Tx, ctx: Context, w: Webhook) -> bool:
    """A new, non-critical incident opened in storm mode has its notifications folded."""
    if w.opens:
        if ctx.config.storm.threshold > 0:
            # Writers that open incidents side by side (processing lanes, replicas) would
            # not count each other's uncommitted ones: a burst would open the storm late.
            # Each opening waits for the ones before it to commit, then counts.
            serialise(tx, STORM_LOCK, ctx.shared)
        w.in_storm = w.severity != "critical" and active(tx, ctx.config.storm, w.now)
    return True
