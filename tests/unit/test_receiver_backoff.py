"""Retry timing: backoff that grows with jitter, and the Retry-After header that overrides it."""

from __future__ import annotations

from receiver.channels.webhook import parse_retry_after
from receiver.outbox.backoff import next_delay


def test_backoff_grows_and_honours_retry_after() -> None:
    delays = [next_delay(n, 1.0, 60.0) for n in range(1, 10)]
    assert 0.8 <= delays[0] <= 1.2 and delays[-1] <= 72.0
    assert delays[4] > delays[0]
    assert next_delay(1, 1.0, 60.0, retry_after=30.0) >= 30.0


def test_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
