"""cpufreq: CPU frequencies and the scaling governor from /sys/devices/system/cpu/*/cpufreq."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, register
from exporter.families import Family, gauge
from exporter.sysattr import read_attr

# sysfs file (kHz) → (metric, help), in node_exporter's order.
_FREQUENCIES = (
    ("cpuinfo_cur_freq", "node_cpu_frequency_hertz", "Current CPU thread frequency in hertz."),
    ("cpuinfo_avg_freq", "node_cpu_frequency_avg_hertz", "Average CPU thread frequency in hertz."),
    ("cpuinfo_min_freq", "node_cpu_frequency_min_hertz", "Minimum CPU thread frequency in hertz."),
    ("cpuinfo_max_freq", "node_cpu_frequency_max_hertz", "Maximum CPU thread frequency in hertz."),
    (
        "scaling_cur_freq",
        "node_cpu_scaling_frequency_hertz",
        "Current scaled CPU thread frequency in hertz.",
    ),
    (
        "scaling_min_freq",
        "node_cpu_scaling_frequency_min_hertz",
        "Minimum scaled CPU thread frequency in hertz.",
    ),
    (
        "scaling_max_freq",
        "node_cpu_scaling_frequency_max_hertz",
        "Maximum scaled CPU thread frequency in hertz.",
    ),
)
# cpuinfo_cur_freq is root-only on most kernels: skipped, as procfs does.
_SKIP = frozenset({errno.ENOENT, errno.EACCES, errno.EPERM})


def parse_cpu_range(text: str) -> set[int]:
    """CPU numbers of a kernel CPU list such as `0-3,8,10-11` (the `offline` file)."""
    cpus: set[int] = set()
    for part in text.strip().split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


@register
class CpufreqCollector(Collector):
    """Current, minimum and maximum frequency per CPU thread, and its scaling governor."""

    name = "cpufreq"
    description = "CPU frequency scaling from /sys/devices/system/cpu/cpu*/cpufreq"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._dir = str(self.paths.sys("devices/system/cpu"))

    def _cpus(self) -> list[tuple[str, str]]:
        try:
            entries = sorted(os.listdir(self._dir))
        except FileNotFoundError as exc:
            raise CollectorUnavailable(f"{self._dir} does not exist") from exc
        offline = parse_cpu_range(read_attr(f"{self._dir}/offline") or "")
        cpus = []
        for entry in entries:
            number = entry[3:]
            if not (entry.startswith("cpu") and number[:1].isdigit()):
                continue
            if number.isdigit() and int(number) in offline:
                continue
            path = f"{self._dir}/{entry}/cpufreq"
            if os.path.isdir(path):
                cpus.append((number, path))
        if not cpus:
            raise CollectorUnavailable("no CPU has a cpufreq directory (no frequency driver)")
        return cpus

    def collect(self) -> Iterable[Metric]:
        families = {metric: gauge(metric, text, ["cpu"]) for _, metric, text in _FREQUENCIES}
        governors = gauge(
            "node_cpu_scaling_governor",
            "Current enabled CPU frequency governor.",
            ["cpu", "governor"],
        )
        for cpu, path in self._cpus():
            for file, metric, _ in _FREQUENCIES:
                raw = read_attr(f"{path}/{file}", _SKIP)
                if raw is not None:
                    families[metric].values.append(((cpu,), int(raw) * 1000.0))
            self._governors(governors, cpu, path)
        out: list[Family] = [*families.values(), governors]
        yield from (family for family in out if family.values)

    @staticmethod
    def _governors(family: Family, cpu: str, path: str) -> None:
        current = read_attr(f"{path}/scaling_governor") or ""
        if not current:
            return
        for governor in (read_attr(f"{path}/scaling_available_governors") or "").split(" "):
            family.values.append(((cpu, governor), 1.0 if governor == current else 0.0))
