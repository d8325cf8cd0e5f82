"""Per-address limits on failed logins, so wrong passwords cannot buy unbounded bcrypt.

Each client address has a bucket of `burst` tokens that refills at `per_second`; a
password check takes one before bcrypt runs and a right password gives it back, so only
failures (and checks in flight) use the bucket up. While it is empty an address gets 429
Too Many Requests with `Retry-After` (the seconds until it may try again). A credential
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

    def take(self, address: str) -> int | None:
        """Take a token for one password check by `address`: None when taken, else the
        whole seconds until one is available.

        Taken before bcrypt runs, so concurrent attempts cannot overshoot the burst;
        `refund` gives it back when the password was right.
        """
        with self._lock:
            now = self._clock()
            bucket = self._refilled(address, now)
            if bucket is None:
                while len(self._buckets) >= self.max_addresses:
                    self._buckets.popitem(last=False)
                bucket = self._buckets[address] = _Bucket(float(self.burst), now)
            self._buckets.move_to_end(address)
            if bucket.tokens < 1:
                return max(1, math.ceil((1 - bucket.tokens) / self.per_second))
            bucket.tokens -= 1
            return None

    def refund(self, address: str) -> None:
        """Give back the token of a check that succeeded."""
        with self._lock:
            bucket = self._refilled(address, self._clock())
            if bucket is not None:
                bucket.tokens = min(self.burst, bucket.tokens + 1)

    def exhausted(self, address: str) -> bool:
        """True when `address` has no token left (its next check would be refused)."""
        with self._lock:
            bucket = self._refilled(address, self._clock())
            return bucket is not None and bucket.tokens < 1
