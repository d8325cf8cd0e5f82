"""bcache, btrfs, mdadm, xfs and zfs on this host, through the exporter process: a collector
whose kernel interface is absent is reported unavailable (success 0) with one log line
however often it is scraped, and the scrape still serves the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.metrics import scrape
from tests.procs import run_exporter

pytestmark = pytest.mark.integration

# Collector → the path whose absence makes it unavailable.
SOURCES = {
    "bcache": "/sys/fs/bcache",
    "btrfs": "/sys/fs/btrfs",
    "mdadm": "/proc/mdstat",
    "xfs": "/sys/fs/xfs",
    "zfs": "/proc/spl/kstat/zfs",
}


def test_absent_sources_are_unavailable_once_and_the_rest_is_served(tmp_path: Path) -> None:
    config = tmp_path / "exporter.yml"
    config.write_text("global: {min_interval: 0s}\n")  # every scrape collects afresh
    args = [
        "--collector.disable-defaults",
        "--collector.loadavg",
        *(f"--collector.{name}" for name in SOURCES),
        f"--config.file={config}",
    ]
    with run_exporter(args, tmp_path) as proc:
        for _ in range(3):
            _, found = scrape(proc.port)
        log = proc.log()
    assert ("node_load1", ()) in found
    unavailable = [line for line in log.splitlines() if "collector_unavailable" in line]
    for name, source in SOURCES.items():
        success = found[("tocsin_exporter_collector_success", (("collector", name),))]
        present = Path(source).exists()
        assert success == (1.0 if present else 0.0), name
        assert sum(f"collector={name}" in line for line in unavailable) == (0 if present else 1)
    assert "Traceback" not in log
