"""Access-log parsing: tocsin's accesslog collector against mtail, on the same file, same run.

1. Throughput. A combined log with nginx's `$request_time` appended (1,000,000 lines by
   default; TOCSIN_BENCH_ACCESSLOG_LINES to change) is consumed by our collector (the real
   follower, parser and bounded counters, in a fresh process) and by
   `mtail --one_shot` with an equivalent program (requests by method and code, bytes, a
   request_time histogram with the same buckets). Lines per CPU-second is the figure; both
   counts are checked to equal the number of lines.
2. End-of-file lag. A separate writer process appends at 20,000 lines/s for 5 s while our
   follower runs with its default 250 ms poll; lag is the time from a write to the moment
   the lines are counted.

Goal (issue 3): our lines/s >= mtail's; lag < 1 s.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MTAIL = "/usr/bin/mtail"
LINES = int(os.environ.get("TOCSIN_BENCH_ACCESSLOG_LINES", "1000000"))
LAG_RATE = 20_000
LAG_SECONDS = 5.0
BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]

MTAIL_REGEX = (
    r'^\S+ \S+ \S+ \[[^\]]*\] "(?P<method>[A-Za-z]+) \S* [^"]*" (?P<code>\d{3}) '
    r'(?P<bytes>\d+) "[^"]*" "[^"]*" (?P<rt>\d+\.\d+)$'
)
MTAIL_PROGRAM = """\
counter http_requests_total by method, code
counter http_response_size_bytes_total
histogram http_request_duration_seconds buckets {buckets}

/{regex}/ {{
  http_requests_total[$method][$code]++
  http_response_size_bytes_total += $bytes
  http_request_duration_seconds = $rt
}}
"""

_METHODS = ["GET"] * 12 + ["POST"] * 4 + ["PUT", "DELETE", "HEAD", "OPTIONS"]
_CODES = ["200"] * 20 + ["201", "204", "301", "304", "400", "401", "403", "404", "500", "502"]
_AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
    "Safari/537.36",
    "curl/8.5.0",
    "Prometheus/2.42.0",
    "Go-http-client/2.0",
]


def make_lines(n: int, seed: int = 1) -> list[str]:
    """`n` combined-format lines with `$request_time`, varied like real traffic."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        out.append(
            f"10.{i % 7}.{i % 251}.{i % 13} - - [10/Oct/2024:13:55:{i % 60:02d} +0000] "
            f'"{rnd.choice(_METHODS)} /api/v1/items/{rnd.randrange(100000)}?page={i % 9} '
            f'HTTP/1.1" {rnd.choice(_CODES)} {rnd.randrange(60000)} '
            f'"https://example.com/app" "{rnd.choice(_AGENTS)}" {rnd.expovariate(8):.3f}\n'
        )
    return out


_OURS = """
import json, resource, sys, time
from pathlib import Path
from exporter.collector import CollectorContext
from exporter.collectors.accesslog import AccessLogCollector, AccessLogConfig
from servicekit.loader import Loader
path, state, n, buckets = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
cfg = Loader("bench").load(AccessLogConfig, {"logs": [
    {"name": "bench", "path": path, "start_at": "beginning", "buckets": json.loads(buckets)}]})
collector = AccessLogCollector(CollectorContext(state_dir=state, config=cfg))
p = collector.pipelines[0]
r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
while p.metrics.parsed + p.metrics.unparsed < n:
    p.follower.poll()
r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
snap = p.metrics.snapshot()
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
print(json.dumps({"cpu": cpu, "wall": t1 - t0, "parsed": snap["parsed"],
                  "requests": sum(snap["requests"].values())}))
"""


def run_ours(path: Path, workdir: Path, n: int) -> dict[str, float]:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _OURS,
            str(path),
            str(workdir / "state"),
            str(n),
            json.dumps(BUCKETS),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run_mtail(path: Path, workdir: Path) -> dict[str, float]:
    progs = workdir / "progs"
    progs.mkdir(exist_ok=True)
    (progs / "access.mtail").write_text(
        MTAIL_PROGRAM.format(buckets=", ".join(str(b) for b in BUCKETS), regex=MTAIL_REGEX)
    )
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            MTAIL,
            "--progs",
            str(progs),
            "--logs",
            str(path),
            "--one_shot",
            "--one_shot_format",
            "prometheus",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    stdout = proc.stdout.read()
    # wait4 gives this child's own CPU time.
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"mtail exited with {proc.returncode}")
    cpu = usage.ru_utime + usage.ru_stime
    requests = sum(
        float(v) for v in re.findall(r"^http_requests_total\{[^}]*\} (\S+)$", stdout, re.M)
    )
    return {"cpu": cpu, "wall": wall, "requests": requests}


_WRITER = """
import json, sys, time
path, rate, seconds, line = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
batch = rate // 100
marks = []
total = 0
with open(path, "a") as f:
    start = time.monotonic()
    for i in range(int(seconds * 100)):
        delay = start + i / 100 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        f.write(line * batch)
        f.flush()
        total += batch
        marks.append((total, time.monotonic()))
print(json.dumps(marks))
"""


async def measure_lag(workdir: Path) -> dict[str, float]:
    from exporter.collector import CollectorContext
    from exporter.collectors.accesslog import AccessLogCollector, AccessLogConfig
    from servicekit.loader import Loader

    path = workdir / "lag.log"
    path.write_text("")
    cfg = Loader("bench").load(AccessLogConfig, {"logs": [{"name": "lag", "path": str(path)}]})
    collector = AccessLogCollector(CollectorContext(state_dir=workdir / "lagstate", config=cfg))
    pipeline = collector.pipelines[0]
    counted: list[tuple[int, float]] = []
    consume = pipeline.consume

    def timed(text: str) -> None:
        consume(text)
        counted.append((pipeline.metrics.parsed, time.monotonic()))

    pipeline.follower.sink = timed
    await collector.start()
    line = make_lines(1)[0]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _WRITER,
        str(path),
        str(LAG_RATE),
        str(LAG_SECONDS),
        line,
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await proc.communicate()
    marks: list[tuple[int, float]] = json.loads(stdout)
    total = marks[-1][0]
    deadline = time.monotonic() + 30
    while pipeline.metrics.parsed < total and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await collector.stop()
    lags = []
    j = 0
    for cumulative, written in marks:
        while j < len(counted) and counted[j][0] < cumulative:
            j += 1
        if j == len(counted):
            lags.append(float("inf"))
        else:
            lags.append(counted[j][1] - written)
    lags.sort()
    return {
        "lines": float(total),
        "counted": float(pipeline.metrics.parsed),
        "p50": lags[len(lags) // 2],
        "p99": lags[int(len(lags) * 0.99)],
        "max": lags[-1],
    }


def main() -> int:
    """Run both measurements and print the figures and ratios."""
    if not shutil.which(MTAIL):
        print(f"{MTAIL} is not installed (apt-get install mtail); cannot compare")
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-accesslog-") as tmp:
        workdir = Path(tmp)
        path = workdir / "access.log"
        t0 = time.perf_counter()
        with path.open("w") as f:
            for start in range(0, LINES, 100_000):
                f.writelines(make_lines(min(100_000, LINES - start), seed=start))
        size_mb = path.stat().st_size / 1e6
        print(f"generated {LINES:,} lines ({size_mb:.0f} MB) in {time.perf_counter() - t0:.1f}s")
        ours = run_ours(path, workdir, LINES)
        theirs = run_mtail(path, workdir)
        ok = ours["parsed"] == LINES and ours["requests"] == LINES
        ok = ok and theirs["requests"] == LINES
        ours_rate = LINES / ours["cpu"]
        their_rate = LINES / theirs["cpu"]
        print(f"{'':8} {'lines/CPU-s':>12} {'CPU s':>8} {'wall s':>8}")
        for name, r, rate in (("tocsin", ours, ours_rate), ("mtail", theirs, their_rate)):
            print(f"{name:8} {rate:12,.0f} {r['cpu']:8.2f} {r['wall']:8.2f}")
        print(f"ratio tocsin/mtail lines per CPU-second: {ours_rate / their_rate:.2f}x")
        if not ok:
            print(f"COUNT MISMATCH: ours={ours} mtail={theirs}")
        lag = asyncio.run(measure_lag(workdir))
        print(
            f"lag at {LAG_RATE:,} lines/s for {LAG_SECONDS:.0f}s: p50 {lag['p50'] * 1000:.0f} ms, "
            f"p99 {lag['p99'] * 1000:.0f} ms, max {lag['max'] * 1000:.0f} ms "
            f"({lag['counted']:,.0f}/{lag['lines']:,.0f} lines counted)"
        )
        goal = ours_rate >= their_rate and lag["max"] < 1.0
        print(f"goal (>= mtail's lines/s, lag < 1 s): {'met' if goal else 'NOT met'}")
        return 0 if ok and lag["counted"] == lag["lines"] else 1


if __name__ == "__main__":
    sys.exit(main())
