"""Per-address limits on failed logins, so wrong passwords cannot buy unbounded bcrypt.

Each client address has a bucket of `burst` failures that refills at `per_second`; a
failure takes one. While its bucket is empty an address gets 429 Too Many Requests with
`Retry-After` (the seconds until it may try again) before any bcrypt runs. A credential
that was verified before keeps its cached fast path and is never limited, so a
Prometheus behind the same address as an attacker keeps scraping.

The table is bounded: at most `max_addresses` are tracked, and when it is full the
address whose bucket was touched longest ago is forgotten first.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class FailureLimiter:
    """Token buckets of failed authentications, one per client address."""

    def __init__(
        self,
        burst: int = 10,
        per_second: float = 1.0,
        max_addresses: int = 10000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.per_second = per_second
        self.max_addresses = max_addresses
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def _refilled(self, address: str, now: float) -> _Bucket | None:
        bucket = self._buckets.get(address)
        if bucket is None:
            return None
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.per_second)
        bucket.at = now
        if bucket.tokens >= self.burst:
            # Full again: nothing to remember.
            del self._buckets[address]
            return None
        return bucket

    def retry_after(self, address: str) -> int | None:
        """Whole seconds until `address` may try a password again; None when it may now."""
        with self._lock:
            bucket = self._refilled(address, self._clock())
            if bucket is None or bucket.tokens >= 1:
                return None
            return max(1, math.ceil((1 - bucket.tokens) / self.per_second))

    def failed(self, address: str) -> bool:
        """Count a failure for `address`; True when this one emptied its bucket."""
        with self._lock:
            now = self._clock()
            bucket = self._refilled(address, now)
            if bucket is None:
                while len(self._buckets) >= self.max_addresses:
                    self._buckets.popitem(last=False)
                bucket = self._buckets[address] = _Bucket(float(self.burst), now)
            self._buckets.move_to_end(address)
            bucket.tokens = max(0.0, bucket.tokens - 1)
            return bucket.tokens < 1
