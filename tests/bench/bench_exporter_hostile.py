"""What hostile input costs the exporter's latency (issue 12), against the same exporter
unloaded in the same run.

One exporter (bcrypt cost 10 basic auth, the loadavg and accesslog collectors) is measured:

- authenticated scrapes (a cached credential), one at a time: quiet, then during 5 s of
  wrong passwords sent on 100 connections at once from the same address;
- `/-/healthy`, quiet and while a 10 MB line that matches no format is appended to the
  followed access log and ingested (the flood is over by then).

Printed: p50/p99/max of each, and each loaded figure as a ratio to its quiet reference.
Before this issue the flood took authenticated scrapes from 14 ms to a 7.3 s median, and
the 10 MB line froze the exporter for more than 10 minutes.
"""

from __future__ import annotations

import asyncio
import base64
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp
import bcrypt
import yaml

from tests.procs import ExporterProcess, run_exporter

FLOOD_SECONDS = 5.0
FLOOD_CONCURRENCY = 100
QUIET_SAMPLES = 100
LONG_LINE_BYTES = 10 << 20


def _auth(password: str) -> dict[str, str]:
    token = base64.b64encode(f"prometheus:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "max": ordered[-1],
    }


async def _timed_get(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    async with session.get(url, headers=headers) as r:
        await r.read()
        if r.status != 200:
            raise RuntimeError(f"{url}: {r.status}")
    return time.perf_counter() - started


async def _flood(port: int) -> Counter[int]:
    statuses: Counter[int] = Counter()
    url = f"http://127.0.0.1:{port}/metrics"
    connector = aiohttp.TCPConnector(limit=FLOOD_CONCURRENCY)
    deadline = time.perf_counter() + FLOOD_SECONDS
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                password = f"wrong{sum(statuses.values())}"
                async with session.get(url, headers=_auth(password)) as r:
                    await r.read()
                    statuses[r.status] += 1

        await asyncio.gather(*(worker() for _ in range(FLOOD_CONCURRENCY)))
    return statuses


async def _measure(proc: ExporterProcess, log: Path) -> dict[str, dict[str, float]]:
    base = f"http://127.0.0.1:{proc.port}"
    good = _auth("right")
    out: dict[str, dict[str, float]] = {}
    async with aiohttp.ClientSession() as session:
        await _timed_get(session, base + "/metrics", good)  # verified once, then cached
        quiet = [await _timed_get(session, base + "/metrics", good) for _ in range(QUIET_SAMPLES)]
        out["scrape quiet"] = _summary(quiet)
        flood = asyncio.create_task(_flood(proc.port))
        loaded = []
        started = time.perf_counter()
        while not flood.done():
            loaded.append(await _timed_get(session, base + "/metrics", good))
            await asyncio.sleep(0.05)
        statuses = await flood
        out["scrape flood"] = _summary(loaded)
        print(
            f"flood: {sum(statuses.values())} wrong passwords on {FLOOD_CONCURRENCY} "
            f"connections in {time.perf_counter() - started:.1f}s, "
            f"answers {dict(sorted(statuses.items()))}"
        )
        idle = [await _timed_get(session, base + "/-/healthy", good) for _ in range(QUIET_SAMPLES)]
        out["healthy quiet"] = _summary(idle)
        with log.open("a") as f:
            f.write('1.2.3.4 - - [t] "GET /' + "a" * LONG_LINE_BYTES + "\n")
            f.write('1.2.3.4 - - [t] "GET / HTTP/1.1" 200 5 "-" "-"\n')
        ingesting = []
        started = time.perf_counter()
        while True:
            ingesting.append(await _timed_get(session, base + "/-/healthy", good))
            async with session.get(base + "/metrics", headers=good) as r:
                text = await r.text()
            if 'tocsin_log_lines_total{log="web",outcome="parsed"} 1.0' in text:
                break
            await asyncio.sleep(0.02)
        print(f"10 MB line ingested in {time.perf_counter() - started:.2f}s")
        out["healthy 10MB line"] = _summary(ingesting)
    return out


def main() -> int:
    """Measure, print the figures and the ratios to the quiet references."""
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        workdir = Path(tmp)
        hashed = bcrypt.hashpw(b"right", bcrypt.gensalt(10)).decode()
        web = workdir / "web.yml"
        web.write_text(yaml.safe_dump({"basic_auth_users": {"prometheus": hashed}}))
        log = workdir / "access.log"
        log.write_text("")
        cfg = workdir / "exporter.yml"
        accesslog = {"enabled": True, "logs": [{"name": "web", "path": str(log)}]}
        cfg.write_text(
            yaml.safe_dump(
                {
                    "global": {"state_dir": str(workdir / "state"), "min_interval": "0s"},
                    "collectors": {"accesslog": accesslog},
                }
            )
        )
        args = [
            f"--config.file={cfg}",
            f"--web.config.file={web}",
            "--collector.disable-defaults",
            "--collector.loadavg",
            "--collector.accesslog",
        ]
        with run_exporter(args, workdir) as proc:
            results = asyncio.run(_measure(proc, log))
    print(f"{'':20} {'n':>5} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
    for name, r in results.items():
        print(
            f"{name:20} {r['n']:5.0f} {r['p50'] * 1000:9.1f} {r['p99'] * 1000:9.1f} "
            f"{r['max'] * 1000:9.1f}"
        )
    for loaded, quiet in (("scrape flood", "scrape quiet"), ("healthy 10MB line", "healthy quiet")):
        a, b = results[loaded], results[quiet]
        print(
            f"ratio {loaded} / {quiet}: p50 {a['p50'] / b['p50']:.1f}x, "
            f"p99 {a['p99'] / b['p99']:.1f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
