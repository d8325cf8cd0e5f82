"""Storm mode: more than `threshold` new incidents within `window` seconds."""

from __future__ import annotations

from receiver.config import StormConfig
from receiver.store.base import Tx


def active(tx: Tx, cfg: StormConfig, now: float) -> bool:
    """True while the receiver is in storm mode (non-critical incidents go to digests)."""
    if cfg.threshold <= 0:
        return False
    row = tx.one("SELECT COUNT(*) AS n FROM incidents WHERE created_at >= ?", (now - cfg.window,))
    return row is not None and int(row["n"]) >= cfg.threshold
