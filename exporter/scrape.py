"""Running collectors and caching what they produced, so scrapes never repeat work.

A `Collection` runs every enabled collector concurrently in worker threads, each against
its own deadline, and renders each collector's families on the way (so one collector's
unrenderable output fails that collector only). The result is a `Snapshot`: the text
body and its gzip copy, with the OpenMetrics variant rendered on first request.
`ScrapeCache` hands the same snapshot to every scrape inside `min_interval` and makes
concurrent scrapes after that share one in-flight collection.
"""

from __future__ import annotations

import asyncio
import platform
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
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
    text: bytes = b""
    error: str | None = None
    unavailable: bool = False


class Snapshot:
    """One collection's output, rendered; immutable apart from the lazy OpenMetrics body."""

    def __init__(self, started: float, started_mono: float, outcomes: list[Outcome]) -> None:
        self.started = started
        self.started_mono = started_mono
        self.outcomes = outcomes
        self.text = b"".join(o.text for o in outcomes)
        self.text_gzip = compress(self.text)
        self._openmetrics: tuple[bytes, bytes] | None = None
        self._lock = threading.Lock()

    def openmetrics_ready(self) -> tuple[bytes, bytes] | None:
        """(body, gzip body) in OpenMetrics if already rendered."""
        return self._openmetrics

    def openmetrics(self) -> tuple[bytes, bytes]:
        """Render OpenMetrics once (blocking); concurrent callers wait for the first."""
        with self._lock:
            if self._openmetrics is None:
                parts = []
                for outcome in self.outcomes:
                    try:
                        parts.append(render_openmetrics(outcome.families))
                    except Exception as exc:
                        log.error(
                            "openmetrics_render_failed", collector=outcome.name, error=str(exc)
                        )
                body = finish_openmetrics(parts)
                self._openmetrics = (body, compress(body))
            return self._openmetrics


class Collection:
    """Runs collectors concurrently in threads with per-collector deadlines (blocking API)."""

    def __init__(self, entries: Sequence[CollectorEntry]) -> None:
        self.entries = list(entries)
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, len(self.entries)), thread_name_prefix="collector"
        )
        # A collector that overran its timeout keeps its thread until it returns; it is not
        # started again meanwhile, so a hung collector holds one thread, not one per scrape.
        self._running: dict[str, Future[tuple[list[Metric], bytes, float]]] = {}
        self._unavailable_logged: set[str] = set()

    def shutdown(self) -> None:
        """Stop the worker threads (does not wait for a hung collector)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def run(self) -> Snapshot:
        """Collect from every collector and render; call from a worker thread."""
        started = time.time()
        started_mono = time.monotonic()
        pending: list[tuple[CollectorEntry, Future[tuple[list[Metric], bytes, float]]]] = []
        outcomes: dict[str, Outcome] = {}
        for entry in self.entries:
            if entry.collector is None:
                outcomes[entry.name] = self._failed_init(entry)
                continue
            previous = self._running.get(entry.name)
            if previous is not None and not previous.done():
                error = "still running from an earlier collection"
                outcomes[entry.name] = Outcome(entry.name, False, 0.0, error=error)
                log.error("collector_failed", collector=entry.name, error=error)
                continue
            future = self._pool.submit(_run_one, entry.collector)
            self._running[entry.name] = future
            pending.append((entry, future))
        for entry, future in sorted(pending, key=lambda p: p[0].timeout):
            remaining = started_mono + entry.timeout - time.monotonic()
            outcomes[entry.name] = self._outcome(entry, future, remaining)
        ordered = [outcomes[e.name] for e in self.entries]
        _drop_duplicate_families(ordered)
        self_metrics = _self_metrics(ordered, started, time.monotonic() - started_mono)
        ordered.append(
            Outcome("exporter", True, 0.0, families=self_metrics, text=render_text(self_metrics))
        )
        return Snapshot(started, started_mono, ordered)

    def _outcome(
        self,
        entry: CollectorEntry,
        future: Future[tuple[list[Metric], bytes, float]],
        remaining: float,
    ) -> Outcome:
        name = entry.name
        try:
            families, text, duration = future.result(timeout=max(0.0, remaining))
        except FutureTimeout:
            error = f"timed out after {entry.timeout:g}s"
            log.error("collector_failed", collector=name, error=error)
            return Outcome(name, False, entry.timeout, error=error)
        except CollectorUnavailable as exc:
            if name not in self._unavailable_logged:
                self._unavailable_logged.add(name)
                log.info("collector_unavailable", collector=name, reason=str(exc))
            return Outcome(name, False, 0.0, error=str(exc), unavailable=True)
        except Exception as exc:
            log.error("collector_failed", collector=name, error=f"{type(exc).__name__}: {exc}")
            return Outcome(name, False, 0.0, error=str(exc))
        self._unavailable_logged.discard(name)
        return Outcome(name, True, duration, families=families, text=text)

    def _failed_init(self, entry: CollectorEntry) -> Outcome:
        unavailable = isinstance(entry.init_error, CollectorUnavailable)
        return Outcome(entry.name, False, 0.0, error=str(entry.init_error), unavailable=unavailable)


def _run_one(collector: Collector) -> tuple[list[Metric], bytes, float]:
    begin = time.perf_counter()
    families = list(collector.collect())
    duration = time.perf_counter() - begin
    for family in families:
        if not isinstance(family, Metric):
            raise TypeError(f"collect() yielded {type(family).__name__}, not a metric family")
    return families, render_text(families), duration


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
            outcome.text = render_text(outcome.families)


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

    async def get(self) -> Snapshot:
        """A fresh snapshot, collecting at most once however many scrapes wait for it."""
        snap = self.fresh()
        if snap is not None:
            return snap
        if self._inflight is None:
            self._inflight = asyncio.create_task(self._collect())
        # shield: a scraper that disconnects must not cancel the collection others wait for.
        return await asyncio.shield(self._inflight)

    async def _collect(self) -> Snapshot:
        try:
            snap = await asyncio.get_running_loop().run_in_executor(None, self.collection.run)
            self._snapshot = snap
            return snap
        finally:
            self._inflight = None

    async def openmetrics(self, snap: Snapshot) -> tuple[bytes, bytes]:
        """The snapshot's OpenMetrics bodies, rendered in a thread the first time."""
        ready = snap.openmetrics_ready()
        if ready is not None:
            return ready
        return await asyncio.get_running_loop().run_in_executor(None, snap.openmetrics)
