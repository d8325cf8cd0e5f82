"""node_exporter's self-metrics beside ours: `node_scrape_collector_*` for the collectors
node_exporter also has (success 0 for one unavailable here, logged once), none for ours
alone, and `process_*` for the exporter process."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.process_collector import ProcessCollector
from structlog.testing import capture_logs

from exporter.collector import CollectorContext, HostPaths
from exporter.collectors.entropy import EntropyCollector
from exporter.collectors.schedstat import SchedstatCollector
from exporter.exposition import render_text
from exporter.scrape import Collection, CollectorEntry
from exporter.selfmetrics import process_families
from tests.conftest import FIXTURES
from tests.fake_collectors import Static
from tests.metrics import parse_series, value


@pytest.fixture
def collection(tmp_path: Path) -> Iterator[Collection]:
    fixtures = CollectorContext(paths=HostPaths(procfs=FIXTURES / "proc"))
    bare = CollectorContext(paths=HostPaths(procfs=tmp_path))  # no /proc/schedstat
    made = Collection(
        [
            CollectorEntry("entropy", 10.0, EntropyCollector(fixtures)),
            CollectorEntry("schedstat", 10.0, SchedstatCollector(bare)),
            CollectorEntry("static", 10.0, Static(fixtures)),
        ]
    )
    yield made
    made.shutdown()


def test_node_scrape_collector_families(collection: Collection) -> None:
    with capture_logs() as logs:
        bodies = [collection.run().render(False)[0].decode() for _ in range(3)]
    found = parse_series(bodies[-1])
    success = "node_scrape_collector_success"
    assert value(found, success, collector="entropy") == 1
    assert value(found, success, collector="schedstat") == 0
    # Only node_exporter's collector names: "static" is ours alone.
    assert value(found, success, collector="static") is None
    assert value(found, "tocsin_exporter_collector_success", collector="static") == 1
    duration = value(found, "node_scrape_collector_duration_seconds", collector="entropy")
    assert duration is not None and duration >= 0
    # Unavailable: reported on every scrape, logged once.
    unavailable = [e for e in logs if e["event"] == "collector_unavailable"]
    assert [e["collector"] for e in unavailable] == ["schedstat"]
    assert "# TYPE node_scrape_collector_success gauge" in bodies[-1]


def test_process_metrics_describe_this_process(collection: Collection) -> None:
    found = parse_series(collection.run().render(False)[0].decode())
    open_fds = value(found, "process_open_fds")
    # The listing itself holds one more, and the worker threads may hold a few.
    assert open_fds is not None and abs(open_fds - len(os.listdir("/proc/self/fd"))) <= 3
    assert value(found, "process_max_fds") == os.sysconf("SC_OPEN_MAX")
    rss = value(found, "process_resident_memory_bytes")
    virtual = value(found, "process_virtual_memory_bytes")
    assert rss is not None and virtual is not None and 0 < rss <= virtual
    start = value(found, "process_start_time_seconds")
    assert start is not None and start <= time.time()
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    expected = 2.0**64 if limit == resource.RLIM_INFINITY else limit
    assert value(found, "process_virtual_memory_max_bytes") == expected
    cpu = value(found, "process_cpu_seconds_total")
    assert cpu is not None and cpu <= time.process_time() + 1


def test_process_families_render_as_prometheus_clients_process_collector() -> None:
    # Our own read of /proc/self must give ProcessCollector's families, byte for byte in
    # their headers, and its values (those that cannot move between the two calls).
    theirs = render_text(list(ProcessCollector(registry=None).collect()))
    ours = render_text(process_families())

    def headers(text: bytes) -> list[str]:
        return [line for line in text.decode().splitlines() if line.startswith("#")]

    assert headers(ours)[: len(headers(theirs))] == headers(theirs)
    their_values, our_values = parse_series(theirs.decode()), parse_series(ours.decode())
    for name in ("process_start_time_seconds", "process_max_fds"):
        assert value(our_values, name) == value(their_values, name), name
    assert value(our_values, "process_virtual_memory_max_bytes") is not None
