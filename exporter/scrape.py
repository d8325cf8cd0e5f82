"""Running collectors and caching what they produced, so scrapes never repeat work.

A `Collection` runs the enabled collectors in a worker thread (a "lane"), one after
another, each against its own deadline. One lane rather than a thread per collector: the
/proc and /sys collectors take well under a millisecond each, and a dozen threads fighting
over the GIL cost more CPU than the collecting itself. A collector that is still running
after `SPILL_AFTER` moves the ones queued behind it onto a fresh lane, so a slow or hung
collector delays nobody else for long. The result is a `Snapshot`; each exposition format
(text or OpenMetrics, each with its gzip copy) is rendered from it once, when first asked
for, in a thread.
The first scraper's format is rendered in the same thread job as the collection.
`ScrapeCache` hands the same snapshot to every scrape inside `min_interval` and makes
concurrent scrapes after that share one in-flight collection.
"""

from __future__ import annotations

import asyncio
import platform
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

import structlog
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from exporter import __version__
from exporter.collector import Collector, CollectorUnavailable
from exporter.exposition import (
    compress,
    finish_openmetrics,
    render_openmetrics,
    render_text,
)

log = structlog.get_logger("exporter.scrape")

# How long one collector may hold the lane before the collectors queued behind it move on
# to another thread.
SPILL_AFTER = 0.05

_Result = tuple[list[Metric], float]


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


class _Lane:
    """A daemon thread running collectors one after another; retired when it gets stuck."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Collector, Future[_Result]] | None] = (
            queue.SimpleQueue()
        )
        threading.Thread(target=self._run, name="collector", daemon=True).start()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            collector, future = job
            # A job cancelled while queued was moved to another lane.
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(_run_one(collector))
            except BaseException as exc:
                future.set_exception(exc)

    def submit(self, collector: Collector) -> Future[_Result]:
        future: Future[_Result] = Future()
        self._jobs.put((collector, future))
        return future

    def retire(self) -> None:
        """Let the thread exit once the job it is running returns."""
        self._jobs.put(None)


class Collection:
    """Runs collectors in worker threads with per-collector deadlines (blocking API)."""

    def __init__(self, entries: Sequence[CollectorEntry]) -> None:
        self.entries = list(entries)
        # Shortest deadline first, so a collector only ever waits behind ones that must
        # finish sooner than it must.
        self._order = sorted(self.entries, key=lambda e: e.timeout)
        self._lane: _Lane | None = None
        self._lock = threading.Lock()
        # A collector that overran its timeout keeps its thread until it returns; it is not
        # started again meanwhile, so a hung collector holds one thread, not one per scrape.
        self._running: dict[str, Future[_Result]] = {}
        self._unavailable_logged: set[str] = set()

    def shutdown(self) -> None:
        """Stop the worker thread (does not wait for a hung collector)."""
        with self._lock:
            if self._lane is not None:
                self._lane.retire()
                self._lane = None

    def run(self) -> Snapshot:
        """Collect from every collector and render; call from a worker thread."""
        with self._lock:
            return self._run()

    def _run(self) -> Snapshot:
        started = time.time()
        started_mono = time.monotonic()
        if self._lane is None:
            self._lane = _Lane()
        pending: list[tuple[CollectorEntry, Future[_Result]]] = []
        outcomes: dict[str, Outcome] = {}
        for entry in self._order:
            if entry.collector is None:
                outcomes[entry.name] = self._failed_init(entry)
                continue
            previous = self._running.get(entry.name)
            if previous is not None and not previous.done():
                error = "still running from an earlier collection"
                outcomes[entry.name] = Outcome(entry.name, False, 0.0, error=error)
                log.error("collector_failed", collector=entry.name, error=error)
                continue
            future = self._lane.submit(entry.collector)
            self._running[entry.name] = future
            pending.append((entry, future))
        for index, (entry, _) in enumerate(pending):
            deadline = started_mono + entry.timeout
            outcomes[entry.name] = self._outcome(entry, self._wait(pending, index, deadline))
        ordered = [outcomes[e.name] for e in self.entries]
        _drop_duplicate_families(ordered)
        self_metrics = _self_metrics(ordered, started, time.monotonic() - started_mono)
        ordered.append(Outcome("exporter", True, 0.0, families=self_metrics))
        return Snapshot(started, started_mono, ordered)

    def _wait(
        self,
        pending: list[tuple[CollectorEntry, Future[_Result]]],
        index: int,
        deadline: float,
    ) -> Future[_Result] | None:
        """The job's future once done, or None when it missed its deadline."""
        future = pending[index][1]
        spilled = False
        while True:
            remaining = deadline - time.monotonic()
            wait = remaining if spilled else min(remaining, SPILL_AFTER)
            try:
                future.exception(timeout=max(0.0, wait))
                return future
            except FutureTimeout:
                pass
            if not spilled and future.running():
                self._spill(pending, index + 1)
                spilled = True
            if time.monotonic() >= deadline:
                # If it never started, make sure it never does; if it just started, it may
                # hang like any other, so the jobs behind it move on.
                if not future.cancel() and not spilled:
                    self._spill(pending, index + 1)
                return None

    def _spill(self, pending: list[tuple[CollectorEntry, Future[_Result]]], start: int) -> None:
        """Move the jobs not yet started from the (busy) current lane onto a new one."""
        stuck = self._lane
        self._lane = lane = _Lane()
        if stuck is not None:
            stuck.retire()
        for i in range(start, len(pending)):
            entry, future = pending[i]
            if future.cancel() and entry.collector is not None:
                moved = lane.submit(entry.collector)
                self._running[entry.name] = moved
                pending[i] = (entry, moved)

    def _outcome(self, entry: CollectorEntry, future: Future[_Result] | None) -> Outcome:
        name = entry.name
        if future is None:
            error = f"timed out after {entry.timeout:g}s"
            log.error("collector_failed", collector=name, error=error)
            return Outcome(name, False, entry.timeout, error=error)
        try:
            families, duration = future.result()
        except CollectorUnavailable as exc:
            if name not in self._unavailable_logged:
                self._unavailable_logged.add(name)
                log.info("collector_unavailable", collector=name, reason=str(exc))
            return Outcome(name, False, 0.0, error=str(exc), unavailable=True)
        except Exception as exc:
            log.error("collector_failed", collector=name, error=f"{type(exc).__name__}: {exc}")
            return Outcome(name, False, 0.0, error=str(exc))
        self._unavailable_logged.discard(name)
        return Outcome(name, True, duration, families=families)

    def _failed_init(self, entry: CollectorEntry) -> Outcome:
        unavailable = isinstance(entry.init_error, CollectorUnavailable)
        return Outcome(entry.name, False, 0.0, error=str(entry.init_error), unavailable=unavailable)


def _run_one(collector: Collector) -> _Result:
    begin = time.perf_counter()
    families = list(collector.collect())
    duration = time.perf_counter() - begin
    for family in families:
        if not isinstance(family, Metric):
            raise TypeError(f"collect() yielded {type(family).__name__}, not a metric family")
    return families, duration


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


def _self_metrics(outcomes: list[Outcome], started: float, total: float) -> list[Metric]:
    duration = GaugeMetricFamily(
        "tocsin_exporter_collector_duration_seconds",
        "Time a collector took in the last collection.",
        labels=["collector"],
    )
    success = GaugeMetricFamily(
        "tocsin_exporter_collector_success",
        "1 if the collector succeeded in the last collection, 0 if it failed, timed out or "
        "is unavailable on this host.",
        labels=["collector"],
    )
    for outcome in outcomes:
        duration.add_metric([outcome.name], outcome.duration)
        success.add_metric([outcome.name], 1.0 if outcome.success else 0.0)
    build = GaugeMetricFamily(
        "tocsin_exporter_build_info",
        "Always 1; the labels carry the exporter's version and Python version.",
        labels=["version", "pythonversion"],
    )
    build.add_metric([__version__, platform.python_version()], 1.0)
    return [
        duration,
        success,
        GaugeMetricFamily(
            "tocsin_exporter_last_collection_timestamp_seconds",
            "Unix time the served data was collected at; scrapes inside min_interval reuse it.",
            value=started,
        ),
        GaugeMetricFamily(
            "tocsin_exporter_collection_duration_seconds",
            "Time the last collection took, all collectors together.",
            value=total,
        ),
        build,
    ]


class ScrapeCache:
    """Serves the latest snapshot while it is younger than `min_interval`, else collects once."""

    def __init__(self, collection: Collection, min_interval: float) -> None:
        self.collection = collection
        self.min_interval = min_interval
        self._snapshot: Snapshot | None = None
        self._inflight: asyncio.Task[Snapshot] | None = None

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
            self._inflight = asyncio.create_task(self._collect(openmetrics))
        # shield: a scraper that disconnects must not cancel the collection others wait for.
        return await asyncio.shield(self._inflight)

    def _collect_and_render(self, openmetrics: bool) -> Snapshot:
        snap = self.collection.run()
        snap.render(openmetrics)
        return snap

    async def _collect(self, openmetrics: bool) -> Snapshot:
        try:
            loop = asyncio.get_running_loop()
            snap = await loop.run_in_executor(None, self._collect_and_render, openmetrics)
            self._snapshot = snap
            return snap
        finally:
            self._inflight = None

    async def bodies(self, snap: Snapshot, openmetrics: bool) -> tuple[bytes, bytes]:
        """(body, gzip body) in the format, rendered in a thread the first time."""
        ready = snap.ready(openmetrics)
        if ready is not None:
            return ready
        return await asyncio.get_running_loop().run_in_executor(None, snap.render, openmetrics)
