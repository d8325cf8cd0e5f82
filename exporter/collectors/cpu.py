"""cpu: per-CPU time by mode from /proc/stat, as node_exporter's cpu collector."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from pathlib import Path

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import counter, gauge
from exporter.procfs import read_required, read_text

# The kernel reports /proc/stat times in USER_HZ ticks, which is 100 on every Linux ABI.
USER_HZ = 100.0
# An idle counter that drops by this many seconds means the CPU was hot-plugged.
JUMP_BACK_SECONDS = 3.0
# Column order of a cpuN line in /proc/stat.
_FIELDS = (
    "user",
    "nice",
    "system",
    "idle",
    "iowait",
    "irq",
    "softirq",
    "steal",
    "guest",
    "guest_nice",
)
_MODES = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
_GUEST_MODES = (("guest", "user"), ("guest_nice", "nice"))


def parse_cpu_lines(text: str) -> dict[str, dict[str, float]]:
    """Per-CPU seconds by /proc/stat field name, keyed by CPU number as a string."""
    cpus: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        if not line.startswith("cpu") or line.startswith("cpu "):
            continue
        parts = line.split()
        cpu = parts[0][3:]
        cpus[cpu] = {
            name: int(raw) / USER_HZ for name, raw in zip(_FIELDS, parts[1:], strict=False)
        }
    return cpus


def parse_cpu_list(text: str) -> list[int]:
    """A sysfs CPU list such as `0-2,5` as CPU numbers."""
    cpus: list[int] = []
    for part in text.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        cpus.extend(range(int(lo), int(hi or lo) + 1))
    return cpus


@register
class CPUCollector(Collector):
    """Seconds each CPU spent in each mode; guest time; isolation and thermal throttles."""

    name = "cpu"
    description = "CPU time per mode from /proc/stat"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._lock = threading.Lock()
        self._last: dict[str, dict[str, float]] = {}
        self._stat = str(self.paths.proc("stat"))
        self._isolated = self._read_isolated()
        self._topology = self._read_topology()

    def _read_isolated(self) -> list[int]:
        try:
            return parse_cpu_list(read_text(self.paths.sys("devices/system/cpu/isolated")))
        except (OSError, ValueError):
            return []

    def _read_topology(self) -> list[tuple[Path, str, str]]:
        """(thermal_throttle dir, package, core) for CPUs that report throttle counts."""
        found = []
        for cpu_dir in sorted(self.paths.sys("devices/system/cpu").glob("cpu[0-9]*")):
            throttle = cpu_dir / "thermal_throttle"
            if not throttle.is_dir():
                continue
            try:
                package = str(int(read_text(cpu_dir / "topology/physical_package_id")))
                core = str(int(read_text(cpu_dir / "topology/core_id")))
            except (OSError, ValueError):
                continue
            found.append((throttle, package, core))
        return found

    def _monotonic(self, current: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        """Keep counters from going backwards, as node_exporter does (idle/iowait can)."""
        with self._lock:
            for cpu, stats in current.items():
                old = self._last.get(cpu, {})
                if old.get("idle", 0.0) - stats.get("idle", 0.0) >= JUMP_BACK_SECONDS:
                    old = {}
                self._last[cpu] = {k: max(v, old.get(k, 0.0)) for k, v in stats.items()}
            for cpu in set(self._last) - set(current):
                del self._last[cpu]
            return {cpu: dict(stats) for cpu, stats in self._last.items()}

    def collect(self) -> Iterable[Metric]:
        stats = self._monotonic(parse_cpu_lines(self.ctx.reads.read(self._stat, read_required)))
        seconds = counter(
            "node_cpu_seconds_total",
            "Seconds the CPUs spent in each mode.",
            labels=["cpu", "mode"],
        )
        guest = counter(
            "node_cpu_guest_seconds_total",
            "Seconds the CPUs spent in guests (VMs) for each mode.",
            labels=["cpu", "mode"],
        )
        for cpu, fields in stats.items():
            for mode in _MODES:
                if mode in fields:
                    seconds.add_metric([cpu, mode], fields[mode])
            for field, mode in _GUEST_MODES:
                if field in fields:
                    guest.add_metric([cpu, mode], fields[field])
        yield seconds
        yield guest
        if self._isolated:
            isolated = gauge(
                "node_cpu_isolated",
                "Whether each core is isolated, information from /sys/devices/system/cpu/isolated.",
                labels=["cpu"],
            )
            for cpu_id in self._isolated:
                isolated.add_metric([str(cpu_id)], 1.0)
            yield isolated
        if self._topology:
            yield from self._throttles()

    def _throttles(self) -> Iterable[Metric]:
        core_counts: dict[tuple[str, str], float] = {}
        package_counts: dict[str, float] = {}
        for throttle, package, core in self._topology:
            # Sibling threads share a core and every core shares its package: read each once.
            if (package, core) not in core_counts:
                with contextlib.suppress(OSError, ValueError):
                    core_counts[package, core] = float(read_text(throttle / "core_throttle_count"))
            if package not in package_counts:
                with contextlib.suppress(OSError, ValueError):
                    package_counts[package] = float(read_text(throttle / "package_throttle_count"))
        packages = counter(
            "node_cpu_package_throttles_total",
            "Number of times this CPU package has been throttled.",
            labels=["package"],
        )
        for package, count in package_counts.items():
            packages.add_metric([package], count)
        cores = counter(
            "node_cpu_core_throttles_total",
            "Number of times this CPU core has been throttled.",
            labels=["package", "core"],
        )
        for (package, core), count in core_counts.items():
            cores.add_metric([package, core], count)
        # node_exporter sends nothing for a family without samples; neither do we.
        yield from (family for family in (packages, cores) if family.values)
