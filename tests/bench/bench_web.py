"""The incidents page in headless Chromium: first render and bytes for 1,000 incidents, and
how long a webhook takes to show up as a row (measured in the browser).

References, measured in the same run and the same browser: for the page, the JSON API's
answer for the same 1,000 incidents fetched by that page (`fetch` with a bearer token);
for the live row, the moment the same browser's own EventSource receives the event the
row is made from. Ratios near 1 mean the HTML and the live update cost little over what
the API and the stream already cost.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.browser.chrome import TOKENS, chrome, incident, sign_in, start_receiver, wait_until
from tests.conftest import find_binary

INCIDENTS = 1000
RENDERS = 5
LIVE_ROWS = 20

_TIMING = """
const nav = performance.getEntriesByType("navigation")[0];
const paint = performance.getEntriesByType("paint")
  .find((p) => p.name === "first-contentful-paint");
const assets = performance.getEntriesByType("resource");
return {
  ttfb: nav.responseStart - nav.startTime,
  html_done: nav.responseEnd - nav.startTime,
  fcp: paint ? paint.startTime : null,
  bytes: nav.transferSize + assets.reduce((n, r) => n + r.transferSize, 0),
  html_bytes: nav.transferSize,
  rows: document.querySelectorAll("#rows tr[data-id]").length,
};
"""
_API = """
const [url, token, done] = arguments;
const t0 = performance.now();
fetch(url, {headers: {Authorization: "Bearer " + token}, cache: "no-store"})
  .then((r) => r.json())
  .then((doc) => {
    const elapsed = performance.now() - t0;
    const entry = performance.getEntriesByName(new URL(url, location.href).href).pop();
    done({elapsed: elapsed, bytes: entry ? entry.transferSize : null, count: doc.count});
  });
"""
_WATCH = """
window.__row = {}; window.__sse = {};
new MutationObserver(() => {
  for (const tr of document.querySelectorAll("#rows tr[data-id]")) {
    const id = tr.dataset.id;
    if (!(id in window.__row)) window.__row[id] = performance.timeOrigin + performance.now();
  }
}).observe(document.getElementById("rows"), {childList: true});
for (const tr of document.querySelectorAll("#rows tr[data-id]")) window.__row[tr.dataset.id] = 0;
const es = new EventSource(document.body.dataset.prefix + "/events");
es.addEventListener("incident", (e) => {
  const d = JSON.parse(e.data);
  if (d.change === "created" && !(d.id in window.__sse))
    window.__sse[d.id] = performance.timeOrigin + performance.now();
});
"""


async def _seed(base: str) -> None:
    headers = {"Authorization": f"Bearer {TOKENS['am'][1]}"}
    sem = asyncio.Semaphore(16)
    async with aiohttp.ClientSession(headers=headers) as s:

        async def one(i: int) -> None:
            async with (
                sem,
                s.post(
                    base + "/webhook/alertmanager",
                    data=json.dumps(incident(f"seed{i}", ("critical", "warning", "info")[i % 3])),
                    headers={"Content-Type": "application/json"},
                ) as r,
            ):
                assert r.status == 200, await r.text()

        await asyncio.gather(*(one(i) for i in range(INCIDENTS)))


def _post(base: str, group: str) -> None:
    asyncio.run(_post_one(base, group))


async def _post_one(base: str, group: str) -> None:
    headers = {"Authorization": f"Bearer {TOKENS['am'][1]}", "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            base + "/webhook/alertmanager", data=json.dumps(incident(group)), headers=headers
        ) as r,
    ):
        assert r.status == 200


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _measure(base: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with chrome() as driver:
        sign_in(driver, base, "vic")
        wait_until(lambda: driver.execute_script(
            "return fetch('/counts').then((r) => r.json()).then((c) => c.firing)"
        ) >= INCIDENTS, 120, "every seeded incident stored")  # fmt: skip
        page = f"{base}/?per_page={INCIDENTS}"
        renders = []
        for _ in range(RENDERS):
            driver.get(page)
            renders.append(driver.execute_script(_TIMING))
        assert all(r["rows"] == INCIDENTS for r in renders), renders[-1]
        api_url = f'/api/v1/incidents?limit={INCIDENTS}&match=alertname%3D~".%2A"'
        answers = [
            driver.execute_async_script(_API, api_url, TOKENS["vic"][1]) for _ in range(RENDERS)
        ]
        assert all(a["count"] == INCIDENTS for a in answers), answers[-1]
        out["renders"], out["api"] = renders, answers

        driver.get(f"{base}/?per_page=50")
        driver.execute_script(_WATCH)
        time.sleep(1)  # the watcher's own EventSource connects
        latencies: list[tuple[float, float]] = []
        for i in range(LIVE_ROWS):
            known = set(driver.execute_script("return Object.keys(window.__row)"))
            t0 = time.time() * 1000
            _post(base, f"live{i}")

            def fresh(known: set[str] = known) -> list[str]:
                rows = driver.execute_script("return window.__row")
                return [k for k in rows if k not in known]

            (new,) = wait_until(fresh, 30, "the live row")
            row_at, sse_at = driver.execute_script(
                "return [window.__row[arguments[0]], window.__sse[arguments[0]]]", new
            )
            latencies.append((row_at - t0, sse_at - t0))
        out["live"] = latencies
    return out


def main() -> int:
    if not (find_binary("chromium") and find_binary("chromedriver")):
        print("skipped: chromium and chromium-driver are not installed")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        receiver = start_receiver(Path(tmp))
        try:
            asyncio.run(_seed(receiver.url))
            got = _measure(receiver.url)
        finally:
            receiver.stop()
    renders, api = got["renders"], got["api"]
    html_ms = _median([r["html_done"] for r in renders])
    fcp_ms = _median([r["fcp"] for r in renders if r["fcp"] is not None] or [float("nan")])
    api_ms = _median([a["elapsed"] for a in api])
    page_bytes = renders[0]["bytes"]
    api_bytes = api[0]["bytes"] or float("nan")
    print(f"list of {INCIDENTS} incidents, median of {RENDERS} loads in headless Chromium:")
    print(f"  HTML received: {html_ms:.0f} ms ({html_ms / api_ms:.2f}x the API's JSON fetch,"
          f" {api_ms:.0f} ms)")  # fmt: skip
    print(f"  first contentful paint: {fcp_ms:.0f} ms ({fcp_ms / api_ms:.2f}x the JSON fetch)")
    print(f"  bytes transferred (first load, HTML + CSS + JS): {page_bytes}"
          f" ({page_bytes / api_bytes:.2f}x the JSON answer's {api_bytes})")  # fmt: skip
    live = got["live"]
    row_ms = _median([r for r, _ in live])
    sse_ms = _median([s for _, s in live])
    print(
        f"webhook → row in the open list, median of {len(live)}: {row_ms:.0f} ms"
        f" ({row_ms / sse_ms:.2f}x webhook → the browser's own EventSource, {sse_ms:.0f} ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
