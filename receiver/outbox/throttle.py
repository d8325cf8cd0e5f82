"""Token buckets for per-channel rate limits (`5/s`, `20/m`)."""

from __future__ import annotations

import time

from receiver.config import RateLimit


class TokenBucket:
    """Holds up to `count` tokens, refilled at `count` per `per` seconds."""

    def __init__(self, limit: RateLimit) -> None:
        self.capacity = float(limit.count)
        self.rate = limit.count / limit.per
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self) -> bool:
        """Take a token if one is available."""
        self._refill()
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def wait_time(self) -> float:
        """Seconds until the next token."""
        self._refill()
        return max(0.0, (1.0 - self.tokens) / self.rate)
