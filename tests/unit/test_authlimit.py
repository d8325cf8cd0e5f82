"""Per-address failure buckets: burst, refill, Retry-After and the bounded table."""

from __future__ import annotations

from exporter.authlimit import FailureLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_limited_until_refilled() -> None:
    clock = Clock()
    limiter = FailureLimiter(burst=3, per_second=0.5, clock=clock)
    emptied = [limiter.failed("a") for _ in range(3)]
    assert emptied == [False, False, True]
    assert limiter.retry_after("a") == 2  # one token back at 0.5/s
    assert limiter.retry_after("b") is None  # other addresses are not affected
    clock.now += 2
    assert limiter.retry_after("a") is None
    assert limiter.failed("a") is True  # that one token is used up again
    clock.now += 60
    assert limiter.retry_after("a") is None
    assert limiter.failed("a") is False  # a full bucket was forgotten and starts afresh


def test_table_is_bounded_and_forgets_the_oldest() -> None:
    limiter = FailureLimiter(burst=1, per_second=0.001, max_addresses=100, clock=Clock())
    for i in range(1000):
        limiter.failed(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter._buckets) == 100
    assert limiter.retry_after("10.0.0.0") is None  # long forgotten
    assert limiter.retry_after("10.0.3.231") is not None  # the latest
