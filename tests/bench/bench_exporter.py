"""tocsin-exporter against node_exporter: CPU per scrape, latency and memory, in one run.

Prometheus scrapes every 15-60 s, so a response cache never helps it: the honest cost is
one full collection per scrape. Every tocsin here runs with `min_interval: 0s`.

Two collector sets, each with a node_exporter and a tocsin side:

- `core`: the 13 node_exporter collectors tocsin reimplements, on both sides;
- `defaults`: each side's own default set (no collector flags at all).

Part 1 (closed loop): each server gets SCRAPES sequential requests over one keep-alive
connection, in ROUNDS rounds taken in turn (so the machine's other load falls on every
server alike), from a load generator in a separate process sending what Prometheus 2.42
sends (its Accept header, which prefers OpenMetrics, and gzip). One connection and no
pipelining, so every scrape is a full collection and the client is never what limits a
server. Printed: CPU seconds per 1,000 scrapes (the server's own utime+stime from
/proc/<pid>/stat; seconds per 1,000 scrapes is milliseconds per uncached scrape), p50/p99
latency, RSS, and the samples one scrape serves (what the CPU pays for).

Part 2 (fixed interval): all four servers scraped once per second, side by side, for
INTERVAL_SECONDS, giving CPU seconds per hour, which is what a host pays in production.

First, in this process: CPU per collection of the `listeners` collector through netlink
against the /proc/net tables it used to read (what the exporter falls back to).

Goals (issue 12): CPU per 1,000 scrapes <= 0.5x node_exporter's, p99 <= node_exporter's,
RSS <= 45 MB. Then the resident memory of tocsin as a user first runs it (issue 9: at most
45 MB): its default collectors with no config file, and with `deploy/examples/exporter.yml`.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from exporter.collector import CollectorContext
from exporter.collectors.listeners import ListenersCollector
from tests.conftest import PROMETHEUS_ACCEPT, SYSTEM_COLLECTORS
from tests.procs import REPO, free_port, stop_process, wait_for_port

NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
SCRAPES = int(os.environ.get("BENCH_SCRAPES", "1500"))
WARMUP = 20
ROUNDS = 5
INTERVAL_SECONDS = float(os.environ.get("BENCH_INTERVAL_SECONDS", "120"))
CPU_GOAL = 0.5
RSS_GOAL_MB = 45.0
PROMETHEUS_HEADERS = {
    "Accept": PROMETHEUS_ACCEPT,
    "Accept-Encoding": "gzip",
    "User-Agent": "Prometheus/2.42.0",
}
_CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    scrapes: int
    errors: int
    p50: float
    p99: float
    cpu: float
    seconds: float
    rss_mb: float

    @property
    def cpu_per_1000(self) -> float:
        return 1000 * self.cpu / max(1, self.scrapes)

    @property
    def cpu_per_hour(self) -> float:
        return 3600 * self.cpu / self.seconds


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _samples(port: int) -> int:
    """Samples (non-comment lines) in one text-format scrape of the server."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/metrics", headers={"Accept": "text/plain"})
        body = conn.getresponse().read().decode()
    finally:
        conn.close()
    return sum(1 for line in body.splitlines() if line and not line.startswith("#"))


def _scrape(conn: http.client.HTTPConnection) -> bool:
    conn.request("GET", "/metrics", headers=PROMETHEUS_HEADERS)
    resp = conn.getresponse()
    resp.read()
    return resp.status == 200


def load_main() -> None:
    """Load-generator process: `PORT COUNT INTERVAL` in argv; prints JSON latencies.

    INTERVAL 0 sends COUNT scrapes back to back; otherwise one every INTERVAL seconds.
    """
    port, count, interval = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    errors = 0
    start = time.monotonic()
    for i in range(count):
        if interval:
            time.sleep(max(0.0, start + i * interval - time.monotonic()))
        t0 = time.perf_counter()
        try:
            ok = _scrape(conn)
        except (OSError, http.client.HTTPException):
            conn.close()
            ok = False
        if ok:
            latencies.append(time.perf_counter() - t0)
        else:
            errors += 1
    print(json.dumps({"latencies": latencies, "errors": errors}))


def _load(port: int, count: int, interval: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from tests.bench.bench_exporter import load_main; load_main()",
            str(port),
            str(count),
            str(interval),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
    )


@dataclass
class _Tally:
    """Scrapes, CPU and wall time summed over rounds."""

    latencies: list[float]
    errors: int = 0
    cpu: float = 0.0
    seconds: float = 0.0

    def result(self, pid: int) -> Result:
        lat = sorted(self.latencies)
        n = len(lat)
        return Result(
            scrapes=n,
            errors=self.errors,
            p50=lat[n // 2] if n else 0.0,
            p99=lat[min(n - 1, int(n * 0.99))] if n else 0.0,
            cpu=self.cpu,
            seconds=self.seconds,
            rss_mb=_rss_mb(pid),
        )


def _measure(load: subprocess.Popen[bytes], pid: int, tally: _Tally) -> None:
    """Wait for a load generator started just now; add its figures and the server's CPU."""
    before, began = _cpu_seconds(pid), time.monotonic()
    out, _ = load.communicate(timeout=INTERVAL_SECONDS + 600)
    tally.cpu += _cpu_seconds(pid) - before
    tally.seconds += time.monotonic() - began
    data = json.loads(out)
    tally.latencies.extend(data["latencies"])
    tally.errors += int(data["errors"])


Servers = dict[str, tuple[subprocess.Popen[bytes], int]]


def _closed_loop(servers: Servers) -> dict[str, Result]:
    """SCRAPES per server in ROUNDS interleaved rounds, so a change in the machine's load
    during the run falls on every server alike."""
    for _, port in servers.values():
        _load(port, WARMUP, 0).communicate(timeout=120)
    tallies = {name: _Tally([]) for name in servers}
    for _ in range(ROUNDS):
        for name, (proc, port) in servers.items():
            _measure(_load(port, SCRAPES // ROUNDS, 0), proc.pid, tallies[name])
    return {name: tallies[name].result(proc.pid) for name, (proc, _) in servers.items()}


def _fixed_interval(servers: Servers) -> dict[str, Result]:
    count = int(INTERVAL_SECONDS)
    started = {}
    for name, (proc, port) in servers.items():
        started[name] = (_cpu_seconds(proc.pid), time.monotonic(), _load(port, count, 1.0))
    results = {}
    for name, (before, began, load) in started.items():
        pid = servers[name][0].pid
        out, _ = load.communicate(timeout=INTERVAL_SECONDS + 600)
        data = json.loads(out)
        tally = _Tally(data["latencies"], int(data["errors"]))
        tally.cpu = _cpu_seconds(pid) - before
        tally.seconds = time.monotonic() - began
        results[name] = tally.result(pid)
    return results


def _verdict(met: bool) -> str:
    return "goal met" if met else "goal NOT met"


def _print_closed(results: dict[str, Result], samples: dict[str, int]) -> None:
    print(
        f"\nPart 1: {SCRAPES} sequential keep-alive scrapes per server in {ROUNDS} interleaved "
        "rounds, one full collection each"
    )
    print(
        f"{'server':<22} {'CPU s/1000':>10} {'p50 ms':>8} {'p99 ms':>8} {'RSS MB':>7} "
        f"{'samples':>7} {'errors':>6}"
    )
    for name, r in results.items():
        print(
            f"{name:<22} {r.cpu_per_1000:>10.3f} {r.p50 * 1000:>8.2f} {r.p99 * 1000:>8.2f} "
            f"{r.rss_mb:>7.1f} {samples[name]:>7} {r.errors:>6}"
        )
    for collectors in ("core", "defaults"):
        ours, node = results[f"tocsin {collectors}"], results[f"node_exporter {collectors}"]
        cpu = ours.cpu_per_1000 / max(node.cpu_per_1000, 1e-9)
        p99 = ours.p99 / node.p99
        print(
            f"{collectors}: CPU/scrape {cpu:.2f}x node_exporter (goal <= {CPU_GOAL}: "
            f"{_verdict(cpu <= CPU_GOAL)}); p99 {p99:.2f}x (goal <= 1: {_verdict(p99 <= 1)}); "
            f"RSS {ours.rss_mb:.1f} MB (goal <= {RSS_GOAL_MB:g}: "
            f"{_verdict(ours.rss_mb <= RSS_GOAL_MB)}); samples {samples[f'tocsin {collectors}']}"
            f" vs {samples[f'node_exporter {collectors}']}; errors {ours.errors}"
        )


def _print_interval(results: dict[str, Result]) -> None:
    print(f"\nPart 2: one scrape per second for {INTERVAL_SECONDS:g}s, all servers side by side")
    print(f"{'server':<22} {'CPU s/hour':>10} {'p99 ms':>8} {'RSS MB':>7} {'errors':>6}")
    for name, r in results.items():
        print(
            f"{name:<22} {r.cpu_per_hour:>10.2f} {r.p99 * 1000:>8.2f} {r.rss_mb:>7.1f} "
            f"{r.errors:>6}"
        )
    for collectors in ("core", "defaults"):
        ours, node = results[f"tocsin {collectors}"], results[f"node_exporter {collectors}"]
        ratio = ours.cpu_per_hour / max(node.cpu_per_hour, 1e-9)
        print(
            f"{collectors}: CPU/hour {ratio:.2f}x node_exporter (goal <= {CPU_GOAL}: "
            f"{_verdict(ratio <= CPU_GOAL)})"
        )


def _start_servers(tmp: Path) -> Servers:
    config = tmp / "uncached.yml"
    config.write_text(f"global:\n  min_interval: 0s\n  state_dir: {tmp}/state\n")
    core_flags = ["--collector.disable-defaults", *(f"--collector.{c}" for c in SYSTEM_COLLECTORS)]
    ours = [sys.executable, "-m", "exporter", f"--config.file={config}"]
    commands = {
        "node_exporter core": [NODE_EXPORTER, *core_flags],
        "tocsin core": [*ours, *core_flags],
        "node_exporter defaults": [NODE_EXPORTER],
        "tocsin defaults": ours,
    }
    servers: Servers = {}
    for name, args in commands.items():
        port = free_port()
        args = [*args, f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
        proc = subprocess.Popen(
            args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        servers[name] = (proc, port)
    for proc, port in servers.values():
        wait_for_port(port, proc)
    return servers


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


LISTENER_COLLECTIONS = 100


def _listeners_cost() -> None:
    """CPU per collection of `listeners` here: netlink against the /proc/net tables it
    replaced (the reference), in alternating rounds."""
    netlink = ListenersCollector(CollectorContext())
    tables = ListenersCollector(CollectorContext())
    tables.netlink.clear()  # as where netlink is refused: every protocol from /proc/net
    if not netlink.netlink:
        print("\nlisteners: netlink is not offered here (or procfs is not live); skipped")
        return
    spent = {"netlink": 0.0, "tables": 0.0}
    for _ in range(ROUNDS):
        for name, collector in (("netlink", netlink), ("tables", tables)):
            before = time.process_time()
            for _ in range(LISTENER_COLLECTIONS // ROUNDS):
                list(collector.collect())
            spent[name] += time.process_time() - before
    per = {name: 1e6 * cpu / LISTENER_COLLECTIONS for name, cpu in spent.items()}
    sockets = sum(1 for line in Path("/proc/net/tcp").read_text().splitlines()[1:] if line)
    print(
        f"\nlisteners per collection ({sockets} sockets in /proc/net/tcp): netlink "
        f"{per['netlink']:.0f} us CPU, /proc/net tables {per['tables']:.0f} us "
        f"(reference): {per['netlink'] / max(per['tables'], 1e-9):.3f}x"
    )


def main() -> int:
    """Run the four servers, print the two parts' tables, ratios and verdicts."""
    if not Path(NODE_EXPORTER).exists():
        print(f"{NODE_EXPORTER} is not installed (apt-get install prometheus-node-exporter)")
        return 1
    _listeners_cost()
    with tempfile.TemporaryDirectory(prefix="bench-exporter-") as tmp:
        servers = _start_servers(Path(tmp))
        try:
            print(f"core collectors: {' '.join(SYSTEM_COLLECTORS)}; tocsin min_interval: 0s")
            print(f"load average before: {_load_average()} ({os.cpu_count()} CPUs)")
            samples = {name: _samples(port) for name, (_, port) in servers.items()}
            _print_closed(_closed_loop(servers), samples)
            _print_interval(_fixed_interval(servers))
            print(f"\nload average after: {_load_average()}")
        finally:
            for proc, _ in servers.values():
                proc.terminate()
            for proc, _ in servers.values():
                stop_process(proc, timeout=10)
    _rss_report()
    return 0


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
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(RSS_SCRAPES):
            _scrape(conn)
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
