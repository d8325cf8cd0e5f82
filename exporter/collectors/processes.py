"""Process groups in process-exporter's model, read straight from /proc.

Each process goes to the first group whose regexes (`comm`, `exe`, `cmdline`; all given
must match) accept it, named by the group's template. CPU and I/O counters of a group are
the sum over its live processes plus what its exited processes had accumulated when last
seen, so they never go backwards when a process exits. Scans run in a thread on an
interval; `collect()` only reads the last scan.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import structlog
from annotated_types import Ge, Gt
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, register
from servicekit.tasks import cancel_all
from servicekit.values import Duration

log = structlog.get_logger(__name__)

OVERFLOW_GROUP = "__other__"
_TEMPLATE_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")
_PLAIN_FIELDS = {"comm", "exe", "exebase", "group"}


@dataclass
class ProcessGroup:
    """One group: regexes that select processes and a template that names the group."""

    name: str = "{comm}"
    comm: re.Pattern[str] | None = None
    exe: re.Pattern[str] | None = None
    cmdline: re.Pattern[str] | None = None

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if self.comm is None and self.exe is None and self.cmdline is None:
            problems.append(("", "set at least one of comm, exe, cmdline"))
        named = {
            n for rx in (self.comm, self.exe, self.cmdline) if rx is not None for n in rx.groupindex
        }
        for ref in _TEMPLATE_FIELD.findall(self.name):
            if ref.startswith("matches."):
                if ref[len("matches.") :] not in named:
                    problems.append(("name", f"{{{ref}}}: no regex has a group of that name"))
            elif ref not in _PLAIN_FIELDS:
                allowed = ", ".join(sorted(_PLAIN_FIELDS))
                problems.append(("name", f"{{{ref}}}: unknown field (use {allowed}, matches.X)"))
        if not self.name.strip():
            problems.append(("name", "expected a non-empty name template"))
        return problems

    def match(self, proc: _ProcInfo) -> str | None:
        """The group name for this process, or None if the group does not take it."""
        values: dict[str, str] = {}
        for rx, text in (
            (self.comm, proc.comm),
            (self.exe, proc.exe),
            (self.cmdline, proc.cmdline),
        ):
            if rx is None:
                continue
            m = rx.search(text)
            if m is None:
                return None
            for k, v in m.groupdict().items():
                if v is not None:
                    values[f"matches.{k}"] = v
        values.update(
            comm=proc.comm, exe=proc.exe, exebase=os.path.basename(proc.exe), group=self.name
        )
        return _TEMPLATE_FIELD.sub(lambda m: values.get(m.group(1), ""), self.name)


@dataclass
class ProcessesConfig:
    """`collectors.processes`: the groups and how often to scan."""

    groups: list[ProcessGroup] = field(default_factory=list)
    interval: Annotated[Duration, Gt(0)] = Duration(15)
    max_groups: Annotated[int, Ge(1)] = 200

    def validate(self) -> list[tuple[str, str]]:
        # Here rather than a bound on the field: no `groups` key at all is wrong too.
        if not self.groups:
            return [("groups", "define at least one process group")]
        return []


@dataclass
class _ProcInfo:
    pid: int
    start_ticks: int
    comm: str
    exe: str = ""
    cmdline: str = ""
    utime: float = 0.0
    stime: float = 0.0
    threads: int = 0
    vsize: int = 0
    rss: int = 0
    fds: int | None = None
    read_bytes: int | None = None
    write_bytes: int | None = None


_COUNTERS = ("utime", "stime", "read_bytes", "write_bytes")


@dataclass
class _GroupTotals:
    count: int = 0
    threads: int = 0
    vsize: int = 0
    rss: int = 0
    fds: int = 0
    oldest_start: float | None = None
    counters: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_COUNTERS, 0.0))
    io_readable: bool = False


class ProcReader:
    """Reads per-process facts from one procfs; every read tolerates the process vanishing."""

    def __init__(self, procfs: Path) -> None:
        self.procfs = procfs
        self.ticks = float(os.sysconf("SC_CLK_TCK"))
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.boot_time = self._boot_time()

    def _boot_time(self) -> float:
        try:
            text = (self.procfs / "stat").read_text(encoding="ascii")
        except OSError as exc:
            raise CollectorUnavailable(f"cannot read {self.procfs}/stat: {exc}") from exc
        for line in text.splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
        raise CollectorUnavailable(f"no btime in {self.procfs}/stat")

    def pids(self) -> list[int]:
        return [int(p) for p in os.listdir(self.procfs) if p.isdigit()]

    def stat(self, pid: int) -> _ProcInfo | None:
        """comm and the /proc/<pid>/stat numbers; None if the process has exited."""
        try:
            stat = (self.procfs / str(pid) / "stat").read_bytes().decode("utf-8", "replace")
        except OSError:
            return None
        # comm may contain spaces and ')' — it ends at the last ')'.
        lpar, rpar = stat.find("("), stat.rfind(")")
        rest = stat[rpar + 2 :].split()
        info = _ProcInfo(pid=pid, start_ticks=int(rest[19]), comm=stat[lpar + 1 : rpar])
        info.utime = int(rest[11]) / self.ticks
        info.stime = int(rest[12]) / self.ticks
        info.threads = int(rest[17])
        info.vsize = int(rest[20])
        info.rss = int(rest[21]) * self.page
        return info

    def names(self, info: _ProcInfo) -> bool:
        """Fill in exe and cmdline; False if the process has exited meanwhile."""
        base = self.procfs / str(info.pid)
        try:
            cmdline = (base / "cmdline").read_bytes()
        except OSError:
            return False
        try:
            exe = os.readlink(base / "exe")
        except OSError:
            exe = ""  # kernel thread, or not ours to see
        info.exe = exe.removesuffix(" (deleted)")
        info.cmdline = cmdline.replace(b"\0", b" ").decode("utf-8", "replace").strip()
        return True

    def details(self, info: _ProcInfo) -> None:
        """Open fds and I/O bytes, where this process lets us read them."""
        base = self.procfs / str(info.pid)
        with contextlib.suppress(OSError):
            info.fds = len(os.listdir(base / "fd"))
        try:
            text = (base / "io").read_text(encoding="ascii")
        except OSError:
            return
        for line in text.splitlines():
            key, _, value = line.partition(":")
            if key == "read_bytes":
                info.read_bytes = int(value)
            elif key == "write_bytes":
                info.write_bytes = int(value)

    def start_time(self, info: _ProcInfo) -> float:
        return self.boot_time + info.start_ticks / self.ticks


class GroupTracker:
    """Keeps per-group totals across scans so counters survive process exits."""

    def __init__(self, groups: list[ProcessGroup], max_groups: int) -> None:
        self.groups = groups
        self.max_groups = max_groups
        # (pid, start ticks) -> (group, last counters) for processes seen in the last scan.
        self.live: dict[tuple[int, int], tuple[str, dict[str, float]]] = {}
        self.exited: dict[str, dict[str, float]] = {}
        self.known_groups: dict[str, None] = {}
        # Processes that matched no group: their cmdline and exe are not read again. comm is
        # part of the key so a process caught between fork and exec is looked at again.
        self.unmatched: set[tuple[int, int, str]] = set()
        self.overflowed = 0

    def _group_name(self, info: _ProcInfo) -> str | None:
        for group in self.groups:
            name = group.match(info)
            if name is not None:
                if name in self.known_groups:
                    return name
                if len(self.known_groups) < self.max_groups:
                    self.known_groups[name] = None
                    return name
                self.overflowed += 1
                return OVERFLOW_GROUP
        return None

    def scan(self, reader: ProcReader) -> dict[str, _GroupTotals]:
        totals: dict[str, _GroupTotals] = {name: _GroupTotals() for name in self.known_groups}
        now_live: dict[tuple[int, int], tuple[str, dict[str, float]]] = {}
        unmatched: set[tuple[int, int, str]] = set()
        for pid in reader.pids():
            info = reader.stat(pid)
            if info is None:
                continue
            key = (pid, info.start_ticks)
            unmatched_key = (pid, info.start_ticks, info.comm)
            if unmatched_key in self.unmatched:
                unmatched.add(unmatched_key)
                continue
            previous = self.live.get(key)
            if previous is not None:
                name: str | None = previous[0]
            elif reader.names(info):
                name = self._group_name(info)
            else:
                continue
            if name is None:
                unmatched.add(unmatched_key)
                continue
            reader.details(info)
            counters = {c: float(getattr(info, c) or 0) for c in _COUNTERS}
            if previous is not None:
                # A counter a process cannot go back on (e.g. io became unreadable).
                counters = {c: max(v, previous[1].get(c, 0.0)) for c, v in counters.items()}
            now_live[key] = (name, counters)
            t = totals.setdefault(name, _GroupTotals())
            t.count += 1
            t.threads += info.threads
            t.vsize += info.vsize
            t.rss += info.rss
            t.fds += info.fds or 0
            t.io_readable = t.io_readable or info.read_bytes is not None
            started = reader.start_time(info)
            t.oldest_start = started if t.oldest_start is None else min(t.oldest_start, started)
            for c, v in counters.items():
                t.counters[c] += v
        for key, (name, counters) in self.live.items():
            if key not in now_live:
                acc = self.exited.setdefault(name, dict.fromkeys(_COUNTERS, 0.0))
                for c, v in counters.items():
                    acc[c] += v
        self.live = now_live
        self.unmatched = unmatched
        for name, acc in self.exited.items():
            t = totals.setdefault(name, _GroupTotals())
            for c, v in acc.items():
                t.counters[c] += v
        return totals


@register
class ProcessesCollector(Collector):
    """Per-group process counts, CPU, memory, fds, threads and I/O."""

    name = "processes"
    default_enabled = False
    description = "process groups (process-exporter model): count, CPU, memory, fds, I/O"
    Config = ProcessesConfig
    config: ProcessesConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._tracker = GroupTracker(self.config.groups, self.config.max_groups)
        self._reader: ProcReader | None = None
        self._totals: dict[str, _GroupTotals] | None = None
        self._lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None

    def scan(self) -> None:
        """One scan of /proc; blocking, so run it in a thread."""
        with self._lock:
            if self._reader is None:
                self._reader = ProcReader(self.paths.proc())
            self._totals = self._tracker.scan(self._reader)

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.scan)
            except Exception as exc:
                log.error("process_scan_failed", error=str(exc))
            await asyncio.sleep(self.config.interval)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="processes-scan")

    async def stop(self) -> None:
        await cancel_all([self._task])
        self._task = None

    def collect(self) -> Iterable[Metric]:
        if self._task is None:
            self.scan()  # not started (one-shot use such as tests): scan on demand
        with self._lock:
            totals = dict(self._totals or {})
            overflowed = self._tracker.overflowed
        yield from _families(totals, overflowed)


def _families(totals: dict[str, _GroupTotals], overflowed: int) -> Iterable[Metric]:
    def gauge(name: str, doc: str) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, doc, labels=["group"])

    count = gauge("tocsin_process_count", "Live processes in the group.")
    rss = gauge("tocsin_process_resident_memory_bytes", "Resident memory of the group's processes.")
    vms = gauge("tocsin_process_virtual_memory_bytes", "Virtual memory of the group's processes.")
    fds = gauge("tocsin_process_open_fds", "Open file descriptors of the group's processes.")
    threads = gauge("tocsin_process_threads", "Threads in the group's processes.")
    oldest = gauge(
        "tocsin_process_oldest_start_time_seconds",
        "Start time (Unix) of the group's oldest live process.",
    )
    cpu = CounterMetricFamily(
        "tocsin_process_cpu_seconds", "CPU time used by the group.", labels=["group", "mode"]
    )
    read = CounterMetricFamily(
        "tocsin_process_io_read_bytes", "Bytes the group read from storage.", labels=["group"]
    )
    written = CounterMetricFamily(
        "tocsin_process_io_written_bytes", "Bytes the group wrote to storage.", labels=["group"]
    )
    for name, t in sorted(totals.items()):
        count.add_metric([name], float(t.count))
        rss.add_metric([name], float(t.rss))
        vms.add_metric([name], float(t.vsize))
        fds.add_metric([name], float(t.fds))
        threads.add_metric([name], float(t.threads))
        if t.oldest_start is not None:
            oldest.add_metric([name], t.oldest_start)
        cpu.add_metric([name, "user"], t.counters["utime"])
        cpu.add_metric([name, "system"], t.counters["stime"])
        if t.io_readable or t.counters["read_bytes"] or t.counters["write_bytes"]:
            read.add_metric([name], t.counters["read_bytes"])
            written.add_metric([name], t.counters["write_bytes"])
    overflow = CounterMetricFamily(
        "tocsin_process_group_overflow",
        "Process matches put in the __other__ group because max_groups was reached.",
    )
    overflow.add_metric([], float(overflowed))
    yield from (count, cpu, rss, vms, fds, threads, oldest, read, written, overflow)
