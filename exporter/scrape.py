"""Running collectors and caching what they produced, so scrapes never repeat work.

A `Collection` runs the enabled collectors inline on one worker thread, one after another,
each against its own deadline (`exporter.watchdog`): the /proc and /sys collectors take
well under a millisecond each, and handing each to a thread of its own costs more CPU than
the collecting itself. A collector that is still running after `SPILL_AFTER` has the ones
queued behind it moved to a fresh worker by the watchdog, so a slow or hung collector
delays nobody else for long, and it is not started again while it still runs. The result
is a `Snapshot`; each exposition format (text or OpenMetrics, each with its gzip copy) is
rendered from it once, when first asked for, in a thread. The first scraper's format is
rendered on the worker that ends the collection, so a scrape costs one hand-off each way.
`ScrapeCache` hands the same snapshot to every scrape inside `min_interval` and makes
concurrent scrapes after that share one in-flight collection.
"""

from __future__ import annotations

import asyncio
import platform
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from functools import partial
from typing import cast

import structlog
from prometheus_client.metrics_core import Metric

from exporter import __version__
from exporter.collector import Collector, CollectorUnavailable
from exporter.exposition import (
    compress,
    finish_openmetrics,
    render_openmetrics,
    render_text,
)
from exporter.families import Family, gauge
from exporter.selfmetrics import process_families, scrape_collector_families
from exporter.sharedreads import SharedReads
from exporter.watchdog import InlineRunner, Job, JobResult, State

log = structlog.get_logger("exporter.scrape")

# How long one collector may hold the worker before the collectors queued behind it move
# on to another thread.
SPILL_AFTER = 0.05


@dataclass
class CollectorEntry:
    """A collector to run: its instance (None when it could not be built) and timeout."""

    name: str
    timeout: float
    collector: Collector | None
    init_error: BaseException | None = None


@dataclass
class Outcome:
    """What one collector produced in one collection."""

    name: str
    success: bool
    duration: float
    families: list[Metric] = field(default_factory=list)
    error: str | None = None
    unavailable: bool = False


class Snapshot:
    """One collection's families; each format is rendered once, on first request."""

    def __init__(self, started: float, started_mono: float, outcomes: list[Outcome]) -> None:
        self.started = started
        self.started_mono = started_mono
        self.outcomes = outcomes
        self._bodies: dict[bool, tuple[bytes, bytes]] = {}
        self._lock = threading.Lock()

    def ready(self, openmetrics: bool) -> tuple[bytes, bytes] | None:
        """(body, gzip body) in the format if it is already rendered (no blocking)."""
        return self._bodies.get(openmetrics)

    def render(self, openmetrics: bool) -> tuple[bytes, bytes]:
        """Render one format and its gzip copy once (blocking); concurrent callers wait.

        Each collector's families are rendered separately, so output that cannot be
        rendered costs that collector's metrics only, never the whole scrape.
        """
        with self._lock:
            bodies = self._bodies.get(openmetrics)
            if bodies is None:
                renderer = render_openmetrics if openmetrics else render_text
                parts = []
                for outcome in self.outcomes:
                    try:
                        parts.append(renderer(outcome.families))
                    except Exception as exc:
                        log.error("render_failed", collector=outcome.name, error=str(exc))
                body = finish_openmetrics(parts) if openmetrics else b"".join(parts)
                bodies = self._bodies[openmetrics] = (body, compress(body))
            return bodies


class Collection:
    """Runs the collectors inline on one worker thread under a watchdog (see the module
    docstring)."""

    def __init__(self, entries: Sequence[CollectorEntry], reads: SharedReads | None = None) -> None:
        self.entries = list(entries)
        # The file reads its collectors share within one collection (their contexts' `reads`).
        self.reads = reads if reads is not None else SharedReads()
        # Shortest deadline first, so a collector only ever waits behind ones that must
        # finish sooner than it must.
        self._jobs = [
            Job(e.name, e.timeout, partial(_run_one, e.collector))
            for e in sorted(self.entries, key=lambda e: e.timeout)
            if e.collector is not None
        ]
        self._runner = InlineRunner(SPILL_AFTER)
        # Seconds from a collection's start to its first watchdog check.
        self.first_check = min([SPILL_AFTER, *(j.timeout for j in self._jobs)])
        self._unavailable_logged: set[str] = set()

    def shutdown(self) -> None:
        """Stop the worker thread (does not wait for a hung collector)."""
        self._runner.shutdown()

    def run(self) -> Snapshot:
        """Collect from every collector (blocking), watching over the collection meanwhile."""
        future = self.start()
        while True:
            try:
                return future.result(timeout=self.check())
            except FutureTimeout:
                continue

    def check(self) -> float:
        """The watchdog: move work off a stuck worker, time collectors out; call while
        waiting for a collection, again after the seconds it returns."""
        return self._runner.check()

    def start(self, openmetrics: bool | None = None) -> Future[Snapshot]:
        """Start a collection; its snapshot comes with `openmetrics`'s format rendered.

        The rendering happens on the thread that ends the collection, in the same hand-off.
        Whoever waits for the future must call `check()` meanwhile (`run` does).
        """
        started = time.time()
        started_mono = time.monotonic()
        future: Future[Snapshot] = Future()

        def done(results: list[JobResult]) -> None:
            self.reads.end()
            try:
                snap = self._snapshot(started, started_mono, results)
                if openmetrics is not None:
                    snap.render(openmetrics)
                future.set_result(snap)
            except BaseException as exc:
                future.set_exception(exc)

        self.reads.begin()
        self._runner.submit(self._jobs, done)
        return future

    def _snapshot(self, started: float, started_mono: float, results: list[JobResult]) -> Snapshot:
        by_name = {job.key: result for job, result in zip(self._jobs, results, strict=True)}
        ordered = []
        for entry in self.entries:
            result = by_name.get(entry.name)
            ordered.append(
                self._failed_init(entry) if result is None else self._outcome(entry, result)
            )
        _drop_duplicate_families(ordered)
        self_metrics = _self_metrics(ordered, started, time.monotonic() - started_mono)
        ordered.append(Outcome("exporter", True, 0.0, families=self_metrics))
        return Snapshot(started, started_mono, ordered)

    def _outcome(self, entry: CollectorEntry, result: JobResult) -> Outcome:
        name = entry.name
        if result.state is State.DONE:
            self._unavailable_logged.discard(name)
            families = cast(list[Metric], result.value)
            return Outcome(name, True, result.duration, families=families)
        if result.state is State.TIMED_OUT:
            error = f"timed out after {entry.timeout:g}s"
        elif result.state is State.BUSY:
            error = "still running from an earlier collection"
        elif isinstance(result.error, CollectorUnavailable):
            if name not in self._unavailable_logged:
                self._unavailable_logged.add(name)
                log.info("collector_unavailable", collector=name, reason=str(result.error))
            return Outcome(name, False, 0.0, error=str(result.error), unavailable=True)
        else:
            exc = result.error
            log.error("collector_failed", collector=name, error=f"{type(exc).__name__}: {exc}")
            return Outcome(name, False, 0.0, error=str(exc))
        log.error("collector_failed", collector=name, error=error)
        return Outcome(name, False, result.duration, error=error)

    def _failed_init(self, entry: CollectorEntry) -> Outcome:
        unavailable = isinstance(entry.init_error, CollectorUnavailable)
        return Outcome(entry.name, False, 0.0, error=str(entry.init_error), unavailable=unavailable)


def _run_one(collector: Collector) -> list[Metric]:
    families = list(collector.collect())
    for family in families:
        if not isinstance(family, Metric):
            raise TypeError(f"collect() yielded {type(family).__name__}, not a metric family")
    return families


def _drop_duplicate_families(outcomes: list[Outcome]) -> None:
    """Keep the first family of each name; a repeated name would make the exposition invalid."""
    seen: set[str] = set()
    for outcome in outcomes:
        names = [f.name for f in outcome.families]
        clash = [n for n in names if n in seen]
        seen.update(names)
        if clash:
            log.error(
                "duplicate_metric_family", collector=outcome.name, families=sorted(set(clash))
            )
            outcome.families = [f for f in outcome.families if f.name not in clash]


def _build_info() -> Family:
    build = gauge(
        "tocsin_exporter_build_info",
        "Always 1; the labels carry the exporter's version and Python version.",
        labels=["version", "pythonversion"],
    )
    build.add_metric([__version__, platform.python_version()], 1.0)
    return build.freeze()


# Fixed for the life of the process: built and rendered once.
_BUILD_INFO = _build_info()


def _self_metrics(outcomes: list[Outcome], started: float, total: float) -> list[Metric]:
    duration = gauge(
        "tocsin_exporter_collector_duration_seconds",
        "Time a collector took in the last collection.",
        labels=["collector"],
    )
    success = gauge(
        "tocsin_exporter_collector_success",
        "1 if the collector succeeded in the last collection, 0 if it failed, timed out or "
        "is unavailable on this host.",
        labels=["collector"],
    )
    for outcome in outcomes:
        duration.add_metric([outcome.name], outcome.duration)
        success.add_metric([outcome.name], 1.0 if outcome.success else 0.0)
    node_exporter_compatible = scrape_collector_families(
        (o.name, o.success, o.duration) for o in outcomes
    )
    return [
        duration,
        success,
        *node_exporter_compatible,
        *process_families(),
        gauge(
            "tocsin_exporter_last_collection_timestamp_seconds",
            "Unix time the served data was collected at; scrapes inside min_interval reuse it.",
            value=started,
        ),
        gauge(
            "tocsin_exporter_collection_duration_seconds",
            "Time the last collection took, all collectors together.",
            value=total,
        ),
        _BUILD_INFO,
    ]


class ScrapeCache:
    """Serves the latest snapshot while it is younger than `min_interval`, else collects once."""

    def __init__(self, collection: Collection, min_interval: float) -> None:
        self.collection = collection
        self.min_interval = min_interval
        self._snapshot: Snapshot | None = None
        self._inflight: asyncio.Future[Snapshot] | None = None
        self._watch: asyncio.TimerHandle | None = None

    def fresh(self) -> Snapshot | None:
        """The cached snapshot if it is still inside the window (no await: the hot path)."""
        snap = self._snapshot
        if snap is not None and time.monotonic() - snap.started_mono < self.min_interval:
            return snap
        return None

    async def get(self, openmetrics: bool = False) -> Snapshot:
        """A fresh snapshot, collecting at most once however many scrapes wait for it.

        A collection started here also renders `openmetrics`'s format in the same thread job.
        """
        snap = self.fresh()
        if snap is not None:
            return snap
        if self._inflight is None:
            self._inflight = self._start(openmetrics)
        # shield: a scraper that disconnects must not cancel the collection others wait for.
        return await asyncio.shield(self._inflight)

    def _start(self, openmetrics: bool) -> asyncio.Future[Snapshot]:
        loop = asyncio.get_running_loop()
        collecting = asyncio.wrap_future(self.collection.start(openmetrics), loop=loop)
        collecting.add_done_callback(self._collected)
        # The event loop is the collection's watchdog, on a timer: no wake-up at all for a
        # collection that ends before the first check is due.
        self._watch = loop.call_later(self.collection.first_check, self._check, collecting)
        return collecting

    def _check(self, collecting: asyncio.Future[Snapshot]) -> None:
        # A check may end the collection (and so render it): it runs in a thread.
        loop = asyncio.get_running_loop()
        checked = loop.run_in_executor(None, self.collection.check)

        def again(done: asyncio.Future[float]) -> None:
            if not collecting.done():
                self._watch = loop.call_later(done.result(), self._check, collecting)

        checked.add_done_callback(again)

    def _collected(self, collecting: asyncio.Future[Snapshot]) -> None:
        self._inflight = None
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        if not collecting.cancelled() and collecting.exception() is None:
            self._snapshot = collecting.result()

    async def bodies(self, snap: Snapshot, openmetrics: bool) -> tuple[bytes, bytes]:
        """(body, gzip body) in the format, rendered in a thread the first time."""
        ready = snap.ready(openmetrics)
        if ready is not None:
            return ready
        return await asyncio.get_running_loop().run_in_executor(None, snap.render, openmetrics)
