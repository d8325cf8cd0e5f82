"""The failed-authentication throttle: blocking per address, Retry-After, expiry, IPv6 /64
keys and a table that stays within its bound."""

from __future__ import annotations

import pytest

from receiver.http.throttle import FailureThrottle, client_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_is_blocked_after_max_failures_until_its_window_ends() -> None:
    clock = Clock()
    t = FailureThrottle(max_failures=3, window=60, clock=clock)
    assert [t.failed("10.0.0.1") for _ in range(3)] == [False, False, True]
    assert t.retry_after("10.0.0.1") == 60
    assert t.retry_after("10.0.0.2") is None
    clock.now += 59.5
    assert t.retry_after("10.0.0.1") == 1
    assert t.failed("10.0.0.1") is False  # the block is logged once per window
    clock.now += 0.5
    assert t.retry_after("10.0.0.1") is None
    assert len(t) == 0


def test_failures_below_the_limit_do_not_block_and_expire_with_the_window() -> None:
    clock = Clock()
    t = FailureThrottle(max_failures=3, window=10, clock=clock)
    t.failed("a")
    t.failed("a")
    clock.now += 11
    t.failed("a")
    t.failed("a")
    assert t.retry_after("a") is None


def test_the_table_never_holds_more_than_max_addresses() -> None:
    clock = Clock()
    t = FailureThrottle(max_failures=2, window=60, max_addresses=100, clock=clock)
    for i in range(10_000):
        t.failed(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")
        clock.now += 0.001
        assert len(t) <= 100
    # The newest addresses are the ones kept.
    t.failed("10.0.39.15")
    assert t.retry_after("10.0.39.15") is not None


@pytest.mark.parametrize(
    ("remote", "key"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        (None, "unknown"),
    ],
)
def test_client_key(remote: str | None, key: str) -> None:
    assert client_key(remote) == key
