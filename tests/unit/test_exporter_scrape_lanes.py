"""Collectors share one worker thread, yet a slow or hung one holds up nobody else."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

import pytest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from exporter.collector import Collector, CollectorContext
from exporter.scrape import SPILL_AFTER, Collection, CollectorEntry, Snapshot
from tests.metrics import by_label, parse_series


class Quick(Collector):
    """Returns at once and records which thread it ran on."""

    def __init__(self, name: str) -> None:
        super().__init__(CollectorContext())
        self.name = name  # type: ignore[misc]
        self.done = threading.Event()
        self.threads: set[int] = set()

    def collect(self) -> Iterable[Metric]:
        self.threads.add(threading.get_ident())
        self.done.set()
        yield GaugeMetricFamily(f"test_{self.name}", "Quick.", value=1)


class Held(Collector):
    """Blocks until released."""

    name = "held"

    def __init__(self) -> None:
        super().__init__(CollectorContext())
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def collect(self) -> Iterable[Metric]:
        self.calls += 1
        self.entered.set()
        self.release.wait(timeout=30)
        yield GaugeMetricFamily("test_held", "Held.", value=1)


@pytest.fixture
def held() -> Iterator[Held]:
    collector = Held()
    yield collector
    collector.release.set()


def success(snap: Snapshot) -> dict[str, float]:
    found = parse_series(snap.render(False)[0].decode())
    return by_label(found, "tocsin_exporter_collector_success", "collector")


def test_quick_collectors_run_on_one_thread() -> None:
    quick = [Quick(f"q{i}") for i in range(6)]
    collection = Collection([CollectorEntry(q.name, 10.0, q) for q in quick])
    try:
        for _ in range(3):
            snap = collection.run()
            assert set(success(snap).values()) == {1.0}
    finally:
        collection.shutdown()
    threads = set().union(*(q.threads for q in quick))
    assert len(threads) == 1
    assert threading.get_ident() not in threads


def test_a_slow_collector_does_not_delay_the_ones_queued_behind_it(held: Held) -> None:
    after = Quick("after")
    # Same timeout, so `after` is queued behind `held` on the lane.
    collection = Collection(
        [CollectorEntry("held", 10.0, held), CollectorEntry("after", 10.0, after)]
    )
    result: list[Snapshot] = []
    runner = threading.Thread(target=lambda: result.append(collection.run()))
    runner.start()
    try:
        assert held.entered.wait(10)
        # `held` is still running: `after` must have moved to another thread and finished.
        assert after.done.wait(10 + SPILL_AFTER)
        assert not held.release.is_set()
    finally:
        held.release.set()
        runner.join(10)
        collection.shutdown()
    assert success(result[0]) == {"held": 1.0, "after": 1.0}


def test_a_hung_collector_times_out_alone_and_is_not_restarted(held: Held) -> None:
    timeout = SPILL_AFTER / 2  # shorter than the spill delay: the deadline moves the rest
    others = [Quick(f"o{i}") for i in range(3)]
    collection = Collection(
        [CollectorEntry("held", timeout, held)]
        + [CollectorEntry(q.name, timeout * 40, q) for q in others]
    )
    try:
        first = collection.run()
        assert success(first) == {"held": 0.0, "o0": 1.0, "o1": 1.0, "o2": 1.0}
        before = threading.active_count()
        for _ in range(3):
            again = collection.run()
            assert success(again) == {"held": 0.0, "o0": 1.0, "o1": 1.0, "o2": 1.0}
        assert held.calls == 1
        assert threading.active_count() <= before, "no thread per collection while hung"
    finally:
        held.release.set()
        collection.shutdown()
    # Once it returns, the next collection runs it again.
    assert held.calls == 1
    collection = Collection([CollectorEntry("held", 10.0, held)])
    try:
        assert success(collection.run()) == {"held": 1.0}
    finally:
        collection.shutdown()
