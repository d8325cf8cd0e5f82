"""LabelLimiter and the overflow counter, including concurrent use from several threads."""

from __future__ import annotations

import threading

import pytest

from exporter.cardinality import OTHER, LabelLimiter, count_overflow, overflow_family


def overflow(collector: str) -> dict[str, float]:
    return {s.labels["label"]: s.value for s in overflow_family(collector).samples}


def test_cap_keeps_first_values_and_counts_the_rest() -> None:
    lim = LabelLimiter("cardtest", "user_agent", cap=3)
    out = [lim(v, n=2) for v in ("a", "b", "c", "d", "a", "e")]
    assert out == ["a", "b", "c", OTHER, "a", OTHER]
    assert len(lim) == 3
    assert overflow("cardtest") == {"user_agent": 4}


def test_family_filters_by_collector() -> None:
    count_overflow("cardtest-a", "x", 5)
    count_overflow("cardtest-b", "y", 7)
    assert overflow("cardtest-a") == {"x": 5}
    everyone = {(s.labels["collector"], s.labels["label"]) for s in overflow_family().samples}
    assert {("cardtest-a", "x"), ("cardtest-b", "y")} <= everyone


def test_concurrent_use_never_exceeds_the_cap() -> None:
    lim = LabelLimiter("cardtest-threads", "v", cap=100)

    def worker(base: int) -> None:
        for i in range(5000):
            lim(f"{base}-{i}")

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(lim) == 100
    assert overflow("cardtest-threads") == {"v": 4 * 5000 - 100}


def test_label_limiter_closed_set_and_cap() -> None:
    lim = LabelLimiter("t", "x", cap=2, allowed=["a", "b", "c"])
    assert [lim(v) for v in ("a", "z", "b", "c", "a")] == ["a", OTHER, "b", OTHER, "a"]
    with pytest.raises(ValueError):
        LabelLimiter("t", "x", cap=0)
