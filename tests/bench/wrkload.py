"""Drive an HTTP endpoint with `wrk` (Debian's `wrk`): a Lua script posts a fresh body per
request (a template with `@@N@@` replaced by a request number unique across threads and
runs) and reports its own latency percentiles as JSON. wrk is a C load generator, so the
client is not what limits the rate; its CPU use is measured and returned to show that."""

from __future__ import annotations

import json
import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

_LUA = """
local template = [==[%(template)s]==]
local path = "%(path)s"
local base = tonumber("%(base)s")
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local n = 0
function request()
  n = n + 1
  local body = template:gsub("@@N@@", tostring(base + tid * 10000000 + n))
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
end
function done(summary, latency, requests)
  io.write("WRKJSON ", string.format(
    '{"requests": %%d, "duration_us": %%d, "non2xx": %%d, "errors": %%d,'
    .. ' "p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Load:
    """What one wrk run measured, and what it cost the client."""

    requests: int
    seconds: float
    non2xx: int
    errors: int
    p50_ms: float
    p99_ms: float
    client_cpu: float  # CPU seconds the wrk process used per wall-clock second

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def run_wrk(
    wrk: str, url: str, path: str, template: str, conns: int, seconds: float, base: int
) -> Load:
    """Post `template` bodies to `url` + `path` from `conns` connections for `seconds`."""
    assert "]==]" not in template
    with tempfile.TemporaryDirectory() as d:
        script = Path(d) / "post.lua"
        script.write_text(_LUA % {"template": template, "path": path, "base": base})
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        out = subprocess.run(
            [wrk, "-t1", f"-c{conns}", f"-d{seconds:g}s", "-s", str(script), url],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    doc = json.loads(line.removeprefix("WRKJSON "))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Load(
        requests=doc["requests"],
        seconds=doc["duration_us"] / 1e6,
        non2xx=doc["non2xx"],
        errors=doc["errors"],
        p50_ms=doc["p50_us"] / 1000,
        p99_ms=doc["p99_us"] / 1000,
        client_cpu=cpu / wall,
    )
