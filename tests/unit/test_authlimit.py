"""Per-address password-check buckets: burst, refill, refunds, Retry-After, bounded table."""

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
    assert [limiter.take("a") for _ in range(3)] == [None, None, None]
    assert limiter.exhausted("a")
    assert limiter.take("a") == 2  # one token back at 0.5/s
    assert limiter.take("b") is None  # other addresses are not affected
    clock.now += 2
    assert limiter.take("a") is None
    assert limiter.take("a") == 2
    clock.now += 60
    assert not limiter.exhausted("a")  # full again, and forgotten
    assert len(limiter._buckets) == 1  # only "b" is still remembered


def test_right_passwords_give_their_token_back() -> None:
    limiter = FailureLimiter(burst=2, per_second=0.001, clock=Clock())
    for _ in range(10):
        assert limiter.take("a") is None
        limiter.refund("a")
    assert not limiter.exhausted("a")


def test_table_is_bounded_and_forgets_the_oldest() -> None:
    limiter = FailureLimiter(burst=1, per_second=0.001, max_addresses=100, clock=Clock())
    for i in range(1000):
        limiter.take(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter._buckets) == 100
    assert limiter.take("10.0.0.0") is None  # long forgotten: a full bucket again
    assert limiter.take("10.0.3.231") is not None  # the latest
