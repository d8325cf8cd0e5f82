"""`cpu` and `stat` read /proc/stat once per collection between them, never across two."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, HostPaths
from exporter.collectors.cpu import CPUCollector
from exporter.collectors.stat import StatCollector
from exporter.scrape import Collection, CollectorEntry
from exporter.sharedreads import SharedReads
from tests.metrics import parse_series


def _stat(user: int, ctxt: int) -> str:
    return (
        f"cpu  {user} 0 0 100 0 0 0 0 0 0\ncpu0 {user} 0 0 100 0 0 0 0 0 0\n"
        f"intr 5 1 2\nctxt {ctxt}\nbtime 1700000000\nprocesses 9\n"
        "procs_running 1\nprocs_blocked 0\n"
    )


class Rewriter(Collector):
    """Runs between `cpu` and `stat` and rewrites /proc/stat, as the kernel would."""

    name = "rewriter"

    def __init__(self, ctx: CollectorContext, path: Path) -> None:
        super().__init__(ctx)
        self.path = path
        self.rewrites = 0

    def collect(self) -> Iterable[Metric]:
        self.rewrites += 1
        self.path.write_text(_stat(user=100 * (self.rewrites + 1), ctxt=1000 * (self.rewrites + 1)))
        return []


def _values(collection: Collection) -> tuple[float | None, float | None]:
    snap = collection.run()
    series = parse_series(snap.render(False)[0].decode())
    user = series.get(("node_cpu_seconds_total", (("cpu", "0"), ("mode", "user"))))
    ctxt = series.get(("node_context_switches_total", ()))
    return user, ctxt


def test_cpu_and_stat_share_one_read_per_collection(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text(_stat(user=100, ctxt=1000))
    reads = SharedReads()
    ctx = CollectorContext(paths=HostPaths(procfs=tmp_path), reads=reads)
    rewriter = Rewriter(ctx, stat)
    # Equal timeouts keep this order: cpu reads, the file changes, stat reads.
    entries = [
        CollectorEntry(c.name, 10.0, c) for c in (CPUCollector(ctx), rewriter, StatCollector(ctx))
    ]
    collection = Collection(entries, reads)
    try:
        # stat reports what cpu read, from before the rewrite: one read for both.
        assert _values(collection) == (1.0, 1000.0)
        # The next collection reads afresh (the first rewrite), and shares that read.
        assert _values(collection) == (2.0, 2000.0)
    finally:
        collection.shutdown()
    assert rewriter.rewrites == 2


def test_outside_a_collection_every_read_is_fresh(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    reads = SharedReads()
    collector = StatCollector(CollectorContext(paths=HostPaths(procfs=tmp_path), reads=reads))
    for ctxt in (1000, 2000):
        stat.write_text(_stat(user=100, ctxt=ctxt))
        found = {f.name: f for f in collector.collect()}
        assert found["node_context_switches"].samples[0].value == ctxt
