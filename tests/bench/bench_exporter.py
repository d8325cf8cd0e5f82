"""tocsin-exporter against node_exporter: same collectors, same load, in one run.

Three servers get the same closed-loop load (1 and then 4 connections, 10 s each) from a
load generator in a separate process, sending what Prometheus 2.42 sends (its Accept
header, which prefers OpenMetrics, and gzip):

- node_exporter, which collects on every scrape;
- tocsin as shipped (`min_interval: 1s`: scrapes inside one second share a collection);
- tocsin with `min_interval: 0s`, so every scrape is a full collection and render, as for
  a real Prometheus scraping every 15 s (only scrapes that arrive while a collection is in
  flight share it, so with 4 connections some do).

Printed per concurrency: requests/s, p50/p99 latency, CPU seconds per 1,000 scrapes (from
/proc/<pid>/stat) and RSS, then each tocsin row's ratios to node_exporter, and the load
average (other work on the machine skews every figure).

Goal (issue 2): >= 2x node_exporter's requests/s, p99 <= its p99, CPU per scrape <= its,
RSS <= 60 MB.

Then the resident memory of tocsin as a user first runs it (issue 9: at most 45 MB): its
default collectors with no config file, and with `deploy/examples/exporter.yml` (paths
under a temporary directory, the HTTP probe pointed at a closed loopback port so the
benchmark sends nothing off the machine), each after a few scrapes.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import PROMETHEUS_ACCEPT, SYSTEM_COLLECTORS
from tests.procs import (
    REPO,
    exporter_args,
    free_port,
    node_exporter_args,
    stop_process,
    wait_for_port,
)

NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
DURATION = 10.0
CONCURRENCY = (1, 4)
PROMETHEUS_HEADERS = {
    "Accept": PROMETHEUS_ACCEPT,
    "Accept-Encoding": "gzip",
    "User-Agent": "Prometheus/2.42.0",
}
_CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    p50: float
    p99: float
    cpu: float
    rss_mb: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_per_1000(self) -> float:
        return 1000 * self.cpu / max(1, self.requests)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _load(url: str, connections: int, duration: float) -> dict[str, object]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:
        start = time.perf_counter()
        stop_at = start + duration

        async def worker() -> None:
            nonlocal errors
            while True:
                t0 = time.perf_counter()
                if t0 >= stop_at:
                    return
                try:
                    async with session.get(url, headers=PROMETHEUS_HEADERS) as resp:
                        await resp.read()
                        ok = resp.status == 200
                except aiohttp.ClientError:
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - t0)
                else:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "errors": errors,
        "seconds": elapsed,
        "p50": latencies[n // 2] if n else 0.0,
        "p99": latencies[min(n - 1, int(n * 0.99))] if n else 0.0,
    }


def load_main() -> None:
    """Load-generator process: `URL CONNECTIONS SECONDS` in argv; prints JSON."""
    url, connections, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    print(json.dumps(asyncio.run(_load(url, connections, duration))))


def _drive(url: str, pid: int, connections: int) -> Result:
    cpu_before = _cpu_seconds(pid)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from tests.bench.bench_exporter import load_main; load_main()",
            url,
            str(connections),
            str(DURATION),
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=DURATION + 60,
    )
    cpu = _cpu_seconds(pid) - cpu_before
    data = json.loads(out.stdout)
    return Result(
        requests=int(data["requests"]),
        errors=int(data["errors"]),
        seconds=float(data["seconds"]),
        p50=float(data["p50"]),
        p99=float(data["p99"]),
        cpu=cpu,
        rss_mb=_rss_mb(pid),
    )


def _row(name: str, r: Result) -> str:
    return (
        f"{name:<17} {r.rps:>9.0f} {r.p50 * 1000:>9.2f} {r.p99 * 1000:>9.2f} "
        f"{r.cpu_per_1000:>12.3f} {r.rss_mb:>8.1f} {r.errors:>6}"
    )


def _ratios(name: str, ours: Result, node: Result) -> str:
    return (
        f"{name}/node_exporter: req/s {ours.rps / node.rps:.2f}x (goal >= 2), "
        f"p50 {ours.p50 / node.p50:.2f}, p99 {ours.p99 / node.p99:.2f} (goal <= 1), "
        f"CPU/scrape {ours.cpu_per_1000 / max(node.cpu_per_1000, 1e-9):.2f} (goal <= 1), "
        f"RSS {ours.rss_mb:.1f} MB (goal <= 60)"
    )


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _ours(port: int, config: Path | None) -> subprocess.Popen[bytes]:
    args = exporter_args(
        port,
        *([f"--config.file={config}"] if config is not None else []),
        "--collector.disable-defaults",
        *(f"--collector.{c}" for c in SYSTEM_COLLECTORS),
        "--log.level=warn",
    )
    return subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL)


def main() -> int:
    """Run the servers under the same load and print figures and ratios."""
    if not Path(NODE_EXPORTER).exists():
        print(f"{NODE_EXPORTER} is not installed (apt-get install prometheus-node-exporter)")
        return 1
    node_port, our_port, uncached_port = free_port(), free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="bench-exporter-") as tmp:
        uncached_config = Path(tmp) / "uncached.yml"
        uncached_config.write_text(f"global:\n  min_interval: 0s\n  state_dir: {tmp}/state\n")
        node = subprocess.Popen(
            node_exporter_args(NODE_EXPORTER, node_port, SYSTEM_COLLECTORS, "--log.level=warn"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        servers = {
            "node_exporter": (node, node_port),
            "tocsin": (_ours(our_port, None), our_port),
            "tocsin uncached": (_ours(uncached_port, uncached_config), uncached_port),
        }
        try:
            _run(servers)
        finally:
            for proc, _ in servers.values():
                proc.terminate()
            for proc, _ in servers.values():
                stop_process(proc, timeout=10)
    _rss_report()
    return 0


def _run(servers: dict[str, tuple[subprocess.Popen[bytes], int]]) -> None:
    for proc, port in servers.values():
        wait_for_port(port, proc)
    print(
        f"collectors: {' '.join(SYSTEM_COLLECTORS)}; {DURATION:g}s per run; "
        f"Prometheus 2.42 headers; 'tocsin' caches 1s, 'tocsin uncached' collects on every scrape"
    )
    print(f"load average before: {_load_average()} ({os.cpu_count()} CPUs)")
    for connections in CONCURRENCY:
        results = {
            name: _drive(f"http://127.0.0.1:{port}/metrics", proc.pid, connections)
            for name, (proc, port) in servers.items()
        }
        node_r = results["node_exporter"]
        print(f"\n{connections} connection(s)")
        print(
            f"{'server':<17} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} "
            f"{'CPU s/1000':>12} {'RSS MB':>8} {'errors':>6}"
        )
        for name, result in results.items():
            print(_row(name, result))
        for name, result in results.items():
            if name != "node_exporter":
                print(_ratios(name, result, node_r))
    print(f"\nload average after: {_load_average()}")


RSS_SCRAPES = 5


def _example_config(tmp: Path) -> Path:
    """deploy/examples/exporter.yml with its paths and its one remote probe kept local."""
    text = (REPO / "deploy/examples/exporter.yml").read_text()
    text = text.replace("/var/lib/tocsin-exporter", f"{tmp}/state")
    text = text.replace("https://example.org/", f"http://127.0.0.1:{free_port()}/")
    path = tmp / "example.yml"
    path.write_text(text)
    return path


def _rss_as_shipped(config: Path | None) -> float:
    """RSS in MB of tocsin with its default collectors after a few scrapes."""
    import urllib.request

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "exporter",
            f"--web.listen-address=127.0.0.1:{port}",
            *([f"--config.file={config}"] if config is not None else []),
            "--log.level=error",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc)
        for _ in range(RSS_SCRAPES):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as r:
                r.read()
            time.sleep(1.1)
        return _rss_mb(proc.pid)
    finally:
        proc.terminate()
        stop_process(proc, timeout=10)


def _rss_report() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-exporter-rss-") as tmp:
        defaults = _rss_as_shipped(None)
        example = _rss_as_shipped(_example_config(Path(tmp)))
    print(
        f"\nRSS as shipped after {RSS_SCRAPES} scrapes: default collectors, no config "
        f"{defaults:.1f} MB; deploy/examples/exporter.yml {example:.1f} MB (goal <= 45)"
    )


if __name__ == "__main__":
    sys.exit(main())
