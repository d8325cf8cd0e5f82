"""Exponential backoff with jitter, never shorter than the server's Retry-After."""

from __future__ import annotations

import random


def next_delay(
    attempt: int, initial: float, maximum: float, retry_after: float | None = None
) -> float:
    """Delay before attempt `attempt + 1`: initial·2^(attempt-1) ±20 %, capped, ≥ Retry-After."""
    base = min(maximum, initial * (2 ** max(0, attempt - 1)))
    delay = base * random.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return float(delay)
