"""The hardware collectors (hwmon, thermal_zone, powersupplyclass, rapl, cpufreq, dmi, edac,
nvme) against node_exporter's, both reading the fixture /sys tree with only these on.

The host (a VM) has almost none of these files, so the fixture tree stands in for a
laptop and a server. Scrapes go in ROUNDS rounds taken in turn, one keep-alive connection
each, tocsin with `min_interval: 0s` (every scrape a full collection). Printed: each
side's CPU seconds per 1,000 scrapes (utime+stime from /proc/<pid>/stat), samples served,
and tocsin's CPU as a ratio of node_exporter's measured in the same run.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import FIXTURES
from tests.procs import REPO, free_port, stop_process, wait_for_port

NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
COLLECTORS = ("cpufreq", "dmi", "edac", "hwmon", "nvme", "powersupplyclass", "rapl", "thermal_zone")
SCRAPES = int(os.environ.get("BENCH_SCRAPES", "400"))
ROUNDS = 4
_CLK_TCK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _samples(body: bytes) -> int:
    lines = body.decode().splitlines()
    return sum(1 for s in lines if s.startswith("node_") and not s.startswith("node_scrape_"))


def _scrapes(port: int, count: int) -> int:
    """`count` scrapes over one connection; the node_* samples of the last one."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = b""
    for _ in range(count):
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        body = resp.read()
    conn.close()
    return _samples(body)


def main() -> int:
    """Start both exporters on the fixture tree, scrape in turns, print CPU and the ratio."""
    if not Path(NODE_EXPORTER).exists():
        print(f"{NODE_EXPORTER} is not installed (apt-get install prometheus-node-exporter)")
        return 1
    flags = [f"--path.sysfs={FIXTURES / 'sys'}", "--collector.disable-defaults"]
    flags += [f"--collector.{name}" for name in COLLECTORS]
    with tempfile.TemporaryDirectory(prefix="bench-hardware-") as tmp:
        config = Path(tmp) / "uncached.yml"
        config.write_text(f"global:\n  min_interval: 0s\n  state_dir: {tmp}/state\n")
        commands = {
            "node_exporter": [NODE_EXPORTER, *flags],
            "tocsin": [sys.executable, "-m", "exporter", f"--config.file={config}", *flags],
        }
        servers = {}
        for name, args in commands.items():
            port = free_port()
            args = [*args, f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
            proc = subprocess.Popen(
                args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            servers[name] = (proc, port)
        try:
            for proc, port in servers.values():
                wait_for_port(port, proc)
                _scrapes(port, 10)
            cpu = dict.fromkeys(servers, 0.0)
            samples = dict.fromkeys(servers, 0)
            started = time.monotonic()
            for _ in range(ROUNDS):
                for name, (proc, port) in servers.items():
                    before = _cpu_seconds(proc.pid)
                    samples[name] = _scrapes(port, SCRAPES // ROUNDS)
                    cpu[name] += _cpu_seconds(proc.pid) - before
            print(f"collectors: {' '.join(COLLECTORS)}; {SCRAPES} scrapes each")
            for name in servers:
                per_1000 = 1000 * cpu[name] / SCRAPES
                print(
                    f"{name:14s} CPU s/1000 scrapes {per_1000:6.2f}  node_* samples {samples[name]}"
                )
            ratio = cpu["tocsin"] / max(cpu["node_exporter"], 1e-9)
            print(f"tocsin / node_exporter CPU per scrape: {ratio:.2f}x")
            print(f"({time.monotonic() - started:.0f} s)")
        finally:
            for proc, _ in servers.values():
                proc.terminate()
            for proc, _ in servers.values():
                stop_process(proc, timeout=10)
    return 0
