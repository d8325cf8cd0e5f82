"""A real exporter process with a collector stuck in a system call and one that spins.

The collectors come from tests/fake_collectors.py, registered as `tocsin.collectors` entry
points by a hand-written .dist-info on the exporter's PYTHONPATH (what an installed plugin
package leaves behind), so the exporter finds them the way it finds any plugin.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from exporter.server import EXIT_GRACE
from tests.metrics import by_label, scrape_series
from tests.procs import run_exporter

# Seconds; generous against a loaded machine, far below what a hang would take.
SCRAPE_BOUND = 10.0
EXIT_BOUND = EXIT_GRACE + 5.0


def plugin_dir(tmp_path: Path) -> Path:
    """A directory whose .dist-info declares the fake collectors as entry points."""
    site = tmp_path / "site"
    info = site / "tocsin_fake_collectors-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: tocsin-fake-collectors\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[tocsin.collectors]\n"
        "stuck = tests.fake_collectors:Stuck\n"
        "spin = tests.fake_collectors:Spin\n"
        "hangs_on_stop = tests.fake_collectors:HangsOnStop\n"
        "blocks_loop = tests.fake_collectors:BlocksLoop\n"
    )
    return site


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads line")


def timed_scrape(port: int) -> tuple[float, dict[str, float]]:
    began = time.monotonic()
    series = scrape_series(port)
    success = by_label(series, "tocsin_exporter_collector_success", "collector")
    assert ("node_load1", ()) in series
    return time.monotonic() - began, success


def test_stuck_and_spinning_collectors_hold_up_nobody_and_sigterm_exits(tmp_path: Path) -> None:
    fifo = tmp_path / "never-written"
    os.mkfifo(fifo)
    config = tmp_path / "exporter.yml"
    config.write_text(
        "global: {min_interval: 0s}\n"
        "collectors:\n"
        f"  stuck: {{timeout: 2s, fifo: '{fifo}'}}\n"
        "  spin: {timeout: 2s, seconds: 300}\n"
    )
    args = [
        "--collector.disable-defaults",
        "--collector.loadavg",
        "--collector.uname",
        "--collector.stuck",
        "--collector.spin",
        f"--config.file={config}",
    ]
    with run_exporter(args, tmp_path, env={"PYTHONPATH": str(plugin_dir(tmp_path))}) as proc:
        elapsed, success = timed_scrape(proc.port)
        assert elapsed < SCRAPE_BOUND
        assert success == {"loadavg": 1.0, "uname": 1.0, "stuck": 0.0, "spin": 0.0}
        after_first = threads(proc.proc.pid)
        for _ in range(5):
            elapsed, success = timed_scrape(proc.port)
            # Both are still running from the first collection: reported, not waited for.
            assert elapsed < SCRAPE_BOUND
            assert success == {"loadavg": 1.0, "uname": 1.0, "stuck": 0.0, "spin": 0.0}
        assert threads(proc.proc.pid) <= after_first, "no new thread per scrape while stuck"
        log = proc.log()
        assert 'collector=stuck error="timed out after 2s"' in log, log
        assert "still running from an earlier collection" in log, log
        began = time.monotonic()
        proc.proc.terminate()
        code = proc.proc.wait(timeout=EXIT_BOUND)
        assert time.monotonic() - began < EXIT_BOUND
        assert code == 0, proc.log()


def test_sigterm_exits_even_when_a_collector_hangs_on_stop(tmp_path: Path) -> None:
    args = ["--collector.disable-defaults", "--collector.uname", "--collector.hangs_on_stop"]
    with run_exporter(args, tmp_path, env={"PYTHONPATH": str(plugin_dir(tmp_path))}) as proc:
        assert ("test_hangs_on_stop_value", ()) in scrape_series(proc.port)
        began = time.monotonic()
        proc.proc.terminate()
        code = proc.proc.wait(timeout=EXIT_BOUND)
        assert time.monotonic() - began < EXIT_BOUND
    assert code == 1
    assert "shutdown_timeout" in proc.log()


def test_sigterm_exits_even_while_the_event_loop_is_blocked(tmp_path: Path) -> None:
    marker = tmp_path / "blocked"
    config = tmp_path / "exporter.yml"
    config.write_text(f"collectors:\n  blocks_loop: {{marker: '{marker}'}}\n")
    args = [
        "--collector.disable-defaults",
        "--collector.blocks_loop",
        f"--config.file={config}",
    ]
    with run_exporter(args, tmp_path, env={"PYTHONPATH": str(plugin_dir(tmp_path))}) as proc:
        deadline = time.monotonic() + SCRAPE_BOUND
        while not marker.exists():
            assert time.monotonic() < deadline, proc.log()
            time.sleep(0.1)
        began = time.monotonic()
        proc.proc.terminate()
        code = proc.proc.wait(timeout=EXIT_BOUND)
        assert time.monotonic() - began < EXIT_BOUND
    assert code == 1
    assert "shutdown_timeout" in proc.log()
