"""Process groups against real processes started by the test."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from exporter.collector import CollectorContext, HostPaths
from exporter.collectors.processes import (
    OVERFLOW_GROUP,
    ProcessesCollector,
    ProcessesConfig,
    ProcessGroup,
)
from servicekit.loader import Loader
from tests.registry import Found, collected

# Burns a little CPU (so the CPU counters are provably non-zero), says so, then waits.
WORKER = (
    "import sys, time\n"
    "while time.process_time() < 0.05: pass\n"
    "print('ready', flush=True)\n"
    "time.sleep(600)\n"
)


class Procs:
    """Starts processes with a per-test marker in their command line, and cleans them up."""

    def __init__(self) -> None:
        self.marker = f"tocsin-test-{uuid.uuid4().hex[:10]}"
        self.started: list[subprocess.Popen[str]] = []

    def worker(self, role: str) -> subprocess.Popen[str]:
        p = subprocess.Popen(
            [sys.executable, "-c", WORKER, self.marker, role],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.started.append(p)
        assert p.stdout is not None
        assert p.stdout.readline().strip() == "ready"
        return p

    def sleeper(self) -> subprocess.Popen[str]:
        p = subprocess.Popen(["sleep", "3600"], text=True)
        self.started.append(p)
        return p

    def stop(self, p: subprocess.Popen[str]) -> None:
        p.kill()
        p.wait(timeout=10)


@pytest.fixture
def procs() -> Iterator[Procs]:
    p = Procs()
    yield p
    for proc in p.started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def collect(c: ProcessesCollector) -> Found:
    return collected(c.collect())


def make(groups: list[ProcessGroup], max_groups: int = 200) -> ProcessesCollector:
    cfg = ProcessesConfig(groups=groups, max_groups=max_groups)
    return ProcessesCollector(CollectorContext(paths=HostPaths(), config=cfg))


def test_groups_by_cmdline_template_and_counters_survive_exit(procs: Procs) -> None:
    rx = re.compile(re.escape(procs.marker) + r" (?P<role>\w+)$")
    c = make([ProcessGroup(name="app-{matches.role}", cmdline=rx)])
    a1, _a2, b = procs.worker("alpha"), procs.worker("alpha"), procs.worker("beta")
    found = collect(c)
    assert found["tocsin_process_count"] == {("app-alpha",): 2.0, ("app-beta",): 1.0}
    assert found["tocsin_process_threads"][("app-alpha",)] >= 2.0
    assert found["tocsin_process_resident_memory_bytes"][("app-beta",)] > 1_000_000
    vms = found["tocsin_process_virtual_memory_bytes"][("app-beta",)]
    assert vms >= found["tocsin_process_resident_memory_bytes"][("app-beta",)]
    assert found["tocsin_process_open_fds"][("app-beta",)] >= 3.0
    start = found["tocsin_process_oldest_start_time_seconds"][("app-alpha",)]
    assert abs(start - Path(f"/proc/{a1.pid}").stat().st_ctime) < 5
    cpu_before = found["tocsin_process_cpu_seconds_total"]
    alpha_cpu = cpu_before[("app-alpha", "user")] + cpu_before[("app-alpha", "system")]
    assert alpha_cpu >= 0.1 - 0.02  # two workers, >= 0.05 s each, in 10 ms ticks
    assert ("app-alpha",) in found["tocsin_process_io_read_bytes_total"]

    procs.stop(a1)
    procs.stop(b)
    found = collect(c)
    assert found["tocsin_process_count"] == {("app-alpha",): 1.0, ("app-beta",): 0.0}
    cpu_after = found["tocsin_process_cpu_seconds_total"]
    for key, value in cpu_before.items():
        assert cpu_after[key] >= value, key
    assert cpu_after[("app-beta", "user")] + cpu_after[("app-beta", "system")] >= 0.05 - 0.01
    assert ("app-beta",) not in found["tocsin_process_oldest_start_time_seconds"]


def test_comm_and_first_matching_group_wins(procs: Procs) -> None:
    sleeper = procs.sleeper()
    c = make(
        [
            ProcessGroup(name="{comm}", comm=re.compile(r"^sleep$")),
            ProcessGroup(name="everything", comm=re.compile(".")),
        ]
    )
    found = collect(c)
    assert found["tocsin_process_count"][("sleep",)] >= 1.0
    pids_of_sleep = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _comm(p) == "sleep"]
    assert sleeper.pid in {int(p.name) for p in pids_of_sleep}
    assert found["tocsin_process_count"][("everything",)] >= 1.0  # at least this pytest


def _comm(p: Path) -> str:
    try:
        return (p / "comm").read_text().strip()
    except OSError:
        return ""


def test_exe_basename_template(procs: Procs) -> None:
    procs.sleeper()
    c = make([ProcessGroup(name="bin:{exebase}", exe=re.compile(r"/sleep$"))])
    assert collect(c)["tocsin_process_count"][("bin:sleep",)] >= 1.0


def test_group_cap_puts_the_rest_in_other(procs: Procs) -> None:
    rx = re.compile(re.escape(procs.marker) + r" (?P<role>\w+)$")
    for role in ("one", "two", "three"):
        procs.worker(role)
    c = make([ProcessGroup(name="{matches.role}", cmdline=rx)], max_groups=1)
    found = collect(c)
    counts = found["tocsin_process_count"]
    assert len(counts) == 2
    assert counts[(OVERFLOW_GROUP,)] == 2.0
    assert found["tocsin_process_group_overflow_total"][()] == 2.0


async def test_background_scan_feeds_collect(procs: Procs) -> None:
    rx = re.compile(re.escape(procs.marker))
    c = make([ProcessGroup(name="bg", cmdline=rx)])
    c.config.interval = 0.05  # type: ignore[assignment]
    procs.worker("x")
    await c.start()
    try:
        deadline = time.monotonic() + 10
        while c._totals is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert collect(c)["tocsin_process_count"] == {("bg",): 1.0}
    finally:
        await c.stop()


def test_config_problems() -> None:
    loader = Loader("x.yml")
    loader.load(
        ProcessesConfig,
        {
            "groups": [
                {"name": "{comm}"},
                {"name": "{matches.nope}", "comm": "(?P<x>a)"},
                {"name": "{pid}", "cmdline": "["},
            ]
        },
        "collectors.processes",
    )
    messages = [f"{p.key}: {p.message}" for p in loader.problems]
    assert any(m.startswith("collectors.processes.groups[0]: set at least one") for m in messages)
    assert any("groups[1].name" in m and "matches.nope" in m for m in messages)
    assert any("groups[2].cmdline" in m and "invalid regular expression" in m for m in messages)
