"""Failed-authentication throttling per client address, in bounded memory.

An address's window opens at its first failed authentication. Once it has failed
`max_failures` times within `window` seconds it is blocked until that window ends:
every authenticated request from it is answered 429, a valid token included, since
answering a right guess differently from a wrong one would let guessing go on at full
speed (the status code alone would tell). Other addresses are unaffected. IPv6 clients
are counted per /64, the block one host usually holds, so rotating addresses within it
does not reset the count.

The table holds at most `max_addresses` windows. All windows are equally long and each
is inserted when it opens, so insertion order is expiry order: expired windows are
dropped from the front in amortised O(1), and when the table is full of live windows
the oldest gives way.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_FAILURES = 10
WINDOW = 60.0
MAX_ADDRESSES = 10_000


@dataclass
class _Window:
    opened: float
    failures: int = 0


def client_key(remote: str | None) -> str:
    """The throttling key of a peer address: the IPv4 address, or the IPv6 /64."""
    if not remote:
        return "unknown"
    try:
        addr = ipaddress.ip_address(remote)
    except ValueError:
        return remote
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return str(addr)


class FailureThrottle:
    """Counts failed authentications per client key and says who must wait."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window: float = WINDOW,
        max_addresses: int = MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_failures < 1 or window <= 0 or max_addresses < 1:
            raise ValueError("max_failures, window and max_addresses must be positive")
        self.max_failures = max_failures
        self.window = window
        self.max_addresses = max_addresses
        self._clock = clock
        self._windows: OrderedDict[str, _Window] = OrderedDict()

    def __len__(self) -> int:
        return len(self._windows)

    def retry_after(self, key: str) -> int | None:
        """Whole seconds `key` must wait when blocked, else None."""
        now = self._clock()
        self._expire(now)
        w = self._windows.get(key)
        if w is None or w.failures < self.max_failures:
            return None
        return max(1, math.ceil(w.opened + self.window - now))

    def failed(self, key: str) -> bool:
        """Record a failed authentication; True when it is the one that blocks `key`
        (so the caller logs once per address and window)."""
        now = self._clock()
        self._expire(now)
        w = self._windows.get(key)
        if w is None:
            while len(self._windows) >= self.max_addresses:
                self._windows.popitem(last=False)
            w = self._windows[key] = _Window(now)
        w.failures += 1
        return w.failures == self.max_failures

    def _expire(self, now: float) -> None:
        windows = self._windows
        while windows:
            key, w = next(iter(windows.items()))
            if w.opened + self.window > now:
                return
            del windows[key]
