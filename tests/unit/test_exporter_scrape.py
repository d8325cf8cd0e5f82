"""Collection and caching: failures are isolated, timeouts bounded, work never repeated."""

from __future__ import annotations

import asyncio
import gc
import gzip
import threading
import weakref
from collections.abc import Iterable, Iterator

import pytest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from structlog.testing import capture_logs

from exporter.collector import Collector, CollectorContext, CollectorUnavailable
from exporter.scrape import Collection, CollectorEntry, ScrapeCache, Snapshot
from tests.fake_collectors import Boom, Static
from tests.metrics import Series, parse_series


class Gone(Collector):
    name = "gone"

    def collect(self) -> Iterable[Metric]:
        raise CollectorUnavailable("no PSI in this kernel")


class Missing(Collector):
    """Unavailable the way the real ones are: a file that is not there, re-raised."""

    name = "missing"

    def collect(self) -> Iterable[Metric]:
        try:
            open("/nonexistent/tocsin-test").close()
        except FileNotFoundError as exc:
            raise CollectorUnavailable("/nonexistent/tocsin-test does not exist") from exc
        return []


class NotAMetric(Collector):
    name = "notametric"

    def collect(self) -> Iterable[Metric]:
        yield "oops"  # type: ignore[misc]


class Duplicate(Collector):
    name = "duplicate"

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily("test_static_value", "Same name as Static's.", value=99)
        yield GaugeMetricFamily("test_duplicate_own", "Its own family.", value=3)


class Blocking(Collector):
    """Blocks until released; counts how often it was asked to collect."""

    name = "blocking"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self.release = threading.Event()
        self.entered = threading.Event()
        self.calls = 0

    def collect(self) -> Iterable[Metric]:
        self.calls += 1
        self.entered.set()
        self.release.wait(timeout=30)
        yield GaugeMetricFamily("test_blocking_calls", "Calls so far.", value=self.calls)


def make(*collectors: Collector, timeout: float = 10.0) -> Collection:
    return Collection([CollectorEntry(c.name, timeout, c) for c in collectors])


@pytest.fixture
def ctx() -> CollectorContext:
    return CollectorContext()


@pytest.fixture
def collections() -> Iterator[list[Collection]]:
    made: list[Collection] = []
    yield made
    for c in made:
        c.shutdown()


def samples(snap: Snapshot) -> Series:
    return parse_series(snap.render(False)[0].decode())


def success(snap: Snapshot, name: str) -> float:
    return samples(snap)[("tocsin_exporter_collector_success", (("collector", name),))]


def test_failing_collector_reports_zero_and_the_rest_is_served(
    ctx: CollectorContext, collections: list[Collection]
) -> None:
    collection = make(Boom(ctx), Static(ctx))
    collections.append(collection)
    with capture_logs() as logs:
        snap = collection.run()
    values = samples(snap)
    assert success(snap, "boom") == 0
    assert success(snap, "static") == 1
    assert values[("test_static_value", ())] == 7
    # Partial output of a failed collector is dropped, not half-served.
    assert not any(name == "test_boom_partial" for name, _ in values)
    failed = [e for e in logs if e["event"] == "collector_failed"]
    assert failed and failed[0]["collector"] == "boom" and "disk on fire" in failed[0]["error"]


def test_timed_out_collector_reports_zero_and_is_not_piled_up(
    ctx: CollectorContext, collections: list[Collection]
) -> None:
    slow = Blocking(ctx)
    collection = Collection(
        [CollectorEntry("blocking", 0.05, slow), CollectorEntry("static", 10.0, Static(ctx))]
    )
    collections.append(collection)
    try:
        first = collection.run()
        assert success(first, "blocking") == 0
        assert success(first, "static") == 1
        duration = samples(first)[
            ("tocsin_exporter_collector_duration_seconds", (("collector", "blocking"),))
        ]
        assert duration == pytest.approx(0.05)
        second = collection.run()
        assert success(second, "blocking") == 0
        assert slow.calls == 1, "a hung collector must not be started again"
    finally:
        slow.release.set()


def test_unavailable_collector_reports_zero_and_logs_once(
    ctx: CollectorContext, collections: list[Collection]
) -> None:
    collection = make(Gone(ctx), Static(ctx))
    collections.append(collection)
    with capture_logs() as logs:
        snap = collection.run()
        collection.run()
    assert success(snap, "gone") == 0
    assert success(snap, "static") == 1
    unavailable = [e for e in logs if e["event"] == "collector_unavailable"]
    assert len(unavailable) == 1
    assert unavailable[0]["log_level"] == "info"
    assert not [e for e in logs if e["event"] == "collector_failed"]


def test_a_collection_with_failed_collectors_is_freed_without_the_garbage_collector(
    ctx: CollectorContext, collections: list[Collection]
) -> None:
    # A failure's traceback must not tie the collection into a reference cycle: left to
    # the garbage collector, every collection's families piled up until a full pass.
    collection = make(Missing(ctx), Boom(ctx), Static(ctx))
    collections.append(collection)
    gc.collect()
    gc.disable()
    try:
        snap = collection.run()
        assert success(snap, "missing") == 0 and success(snap, "boom") == 0
        freed = weakref.ref(snap)
        del snap
        collection.run()  # the worker lets go of the batch before it
        assert freed() is None
    finally:
        gc.enable()


def test_collector_failing_to_initialise_is_reported(collections: list[Collection]) -> None:
    collection = Collection([CollectorEntry("broken", 1.0, None, RuntimeError("bad"))])
    collections.append(collection)
    snap = collection.run()
    assert success(snap, "broken") == 0


def test_yielding_something_else_fails_only_that_collector(
    ctx: CollectorContext, collections: list[Collection]
) -> None:
    collection = make(NotAMetric(ctx), Static(ctx))
    collections.append(collection)
    snap = collection.run()
    assert success(snap, "notametric") == 0
    assert success(snap, "static") == 1


def test_duplicate_family_names_are_served_once(
    ctx: CollectorContext, collections: list[Collection]
) -> None:
    collection = make(Static(ctx), Duplicate(ctx))
    collections.append(collection)
    with capture_logs() as logs:
        snap = collection.run()
    values = samples(snap)
    assert values[("test_static_value", ())] == 7
    assert values[("test_duplicate_own", ())] == 3
    assert snap.render(False)[0].count(b"# TYPE test_static_value ") == 1
    assert any(e["event"] == "duplicate_metric_family" for e in logs)


def test_snapshot_has_gzip_copy_and_self_metrics(
    ctx: CollectorContext, collections: list[Collection]
) -> None:
    collection = make(Static(ctx))
    collections.append(collection)
    snap = collection.run()
    assert snap.ready(False) is None
    body, body_gz = snap.render(False)
    assert snap.ready(False) == (body, body_gz)
    assert gzip.decompress(body_gz) == body
    values = samples(snap)
    assert values[("tocsin_exporter_last_collection_timestamp_seconds", ())] == pytest.approx(
        snap.started
    )
    assert ("tocsin_exporter_collection_duration_seconds", ()) in values
    assert any(name == "tocsin_exporter_build_info" for name, _ in values)


class Unrenderable(Collector):
    name = "unrenderable"

    def collect(self) -> Iterable[Metric]:
        bad = Metric("test_unrenderable", "Its value is not a number.", "gauge")
        bad.add_sample("test_unrenderable", {}, "many")  # type: ignore[arg-type]
        yield bad


@pytest.mark.parametrize("openmetrics", [False, True])
def test_output_that_cannot_be_rendered_costs_only_its_collector(
    ctx: CollectorContext, collections: list[Collection], openmetrics: bool
) -> None:
    collection = make(Unrenderable(ctx), Static(ctx))
    collections.append(collection)
    with capture_logs() as logs:
        body, _ = collection.run().render(openmetrics)
    assert b"test_static_value" in body
    assert b"test_unrenderable" not in body
    assert b"tocsin_exporter_collector_success" in body
    assert any(e["event"] == "render_failed" and e["collector"] == "unrenderable" for e in logs)


async def test_a_collection_renders_the_first_scrapers_format(
    ctx: CollectorContext, collections: list[Collection]
) -> None:
    collection = make(Static(ctx))
    collections.append(collection)
    cache = ScrapeCache(collection, min_interval=3600.0)
    snap = await cache.get(openmetrics=True)
    assert snap.ready(True) is not None
    assert snap.ready(False) is None
    text, _ = await cache.bodies(snap, False)
    assert snap.ready(False) == (text, snap.render(False)[1])


def test_openmetrics_is_rendered_lazily_once(
    ctx: CollectorContext, collections: list[Collection]
) -> None:
    collection = make(Static(ctx), Boom(ctx))
    collections.append(collection)
    snap = collection.run()
    assert snap.ready(True) is None
    body, body_gz = snap.render(True)
    assert snap.ready(True) == (body, body_gz)
    assert snap.render(True)[0] is body
    assert snap.ready(False) is None, "the text format is rendered only when asked for"
    assert body.endswith(b"# EOF\n") and body.count(b"# EOF") == 1
    assert gzip.decompress(body_gz) == body
    names = {f.name for f in parse_openmetrics(body.decode())}
    assert {"test_static_value", "tocsin_exporter_collector_success"} <= names


async def test_concurrent_scrapes_share_one_collection(
    ctx: CollectorContext, collections: list[Collection]
) -> None:
    blocking = Blocking(ctx)
    collection = make(blocking)
    collections.append(collection)
    cache = ScrapeCache(collection, min_interval=0.0)
    try:
        scrapes = [asyncio.create_task(cache.get()) for _ in range(10)]
        assert await asyncio.to_thread(blocking.entered.wait, 10)
        await asyncio.sleep(0)
        blocking.release.set()
        snaps = await asyncio.gather(*scrapes)
    finally:
        blocking.release.set()
    assert blocking.calls == 1
    assert all(s is snaps[0] for s in snaps)


async def test_min_interval_window_reuses_the_snapshot(
    ctx: CollectorContext, collections: list[Collection]
) -> None:
    counter = Blocking(ctx)
    counter.release.set()
    cached = make(counter)
    collections.append(cached)
    cache = ScrapeCache(cached, min_interval=3600.0)
    first = await cache.get()
    assert cache.fresh() is first
    assert await cache.get() is first
    assert counter.calls == 1

    cache_off = ScrapeCache(cached, min_interval=0.0)
    await cache_off.get()
    await cache_off.get()
    assert counter.calls == 3


async def test_a_cancelled_scrape_does_not_cancel_the_shared_collection(
    ctx: CollectorContext, collections: list[Collection]
) -> None:
    blocking = Blocking(ctx)
    collection = make(blocking)
    collections.append(collection)
    cache = ScrapeCache(collection, min_interval=0.0)
    try:
        first = asyncio.create_task(cache.get())
        second = asyncio.create_task(cache.get())
        assert await asyncio.to_thread(blocking.entered.wait, 10)
        first.cancel()
        blocking.release.set()
        snap = await second
    finally:
        blocking.release.set()
    assert first.cancelled()
    assert blocking.calls == 1
    assert success(snap, "blocking") == 1
