"""The forecast models on synthetic series with known seasonality and injected anomalies.

Three series shapes (fixed seeds), 16 days at 5-minute steps: `weekly` (trend, daily and
weekly seasons, noise), `daily` (a strong daily season only) and `level` (no season, just
noise around a level). Each model is fitted on the first 14 days, as the collector does
every `fit_every`, then applied with those parameters at later origins, as every
`infer_every` does. Printed per model:

1. Detection on the last two days, where 8 one-point spikes and 3 one-hour level shifts
   (12 noise sigmas) were injected: precision (flagged points inside an injected anomaly,
   or the point right after it) and recall (injected anomalies with at least one flagged
   point), score > 1 being "flagged".
2. Forecast error per horizon (6h, 24h, 48h) as MASE: the absolute error over the
   in-sample mean absolute error of a one-day seasonal naive forecast (below 1: better
   than "same as yesterday"), averaged over 8 origins 3 hours apart (the parameters
   fitted once, at the first) and the three shapes, on series without injected anomalies;
   and how often the 95% interval held the truth.
3. Fit and inference seconds per series (median), also as a ratio to the built-in
   Holt-Winters measured in the same run; and the RSS a process holding 4 fitted series
   of the model reaches, against the same process before it imported the model's library.

Then the exporter's RSS with its default collectors, and with the forecast collector added
(built-in models, Prometheus unreachable so nothing is fitted: the floor of enabling it).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from exporter.forecast.models import models, unavailable_models
from exporter.forecast.models.base import Model, Seasons
from tests.procs import REPO, free_port, stop_process, wait_for_port
from tests.seasonal_series import Synthetic, inject, seasonal

STEP = 300.0
DAY = 288
HISTORY = 14 * DAY
TOTAL = 16 * DAY
HORIZONS = {"6h": 72, "24h": 288, "48h": 576}
Z95 = 1.96
ORIGINS = 8
ORIGIN_SPACING = 36  # three hours, as if `fit_every` were a day and inference every 3h
EPOCH = 5_000_000  # steps since the Unix epoch at the first point
SHAPES = {
    "weekly": {},
    "daily": {"weekly": 0.0, "daily": 20.0, "trend_per_day": 0.0},
    "level": {"weekly": 0.0, "daily": 0.0, "trend_per_day": 0.0},
}
ORDER = ["holt_winters", "seasonal_naive", "robust_zscore", "iqr", "spike"]
ORDER += ["arima", "ets", "stl", "prophet"]


def _series(shape: str, seed: int, anomalies: bool) -> Synthetic:
    base = seasonal(TOTAL, STEP, seed=seed, **SHAPES[shape])
    if not anomalies:
        return base
    return inject(base, seed=seed + 100, spikes=8, shifts=3, within=(HISTORY, TOTAL - 1))


def _events(series: Synthetic) -> list[set[int]]:
    """Injected anomalies as events: one per spike, one per level shift."""
    events: list[set[int]] = []
    for i in sorted(series.anomalies):
        if events and i - 1 in events[-1]:
            events[-1].add(i)
        else:
            events.append({i})
    return events


def _detection(model: Model) -> tuple[float, list[float], float, float]:
    """(precision, recall per shape, fit seconds, apply seconds) over the three shapes."""
    flagged = hits = 0
    recalls, fits, applies = [], [], []
    for k, shape in enumerate(SHAPES):
        series = _series(shape, seed=20 + k, anomalies=True)
        seasons = Seasons.for_history(STEP, HISTORY, start=EPOCH)
        began = time.perf_counter()
        params = model.fit(series.values[:HISTORY], seasons)
        fits.append(time.perf_counter() - began)
        began = time.perf_counter()
        # The window the collector would hold at the end: the last 14 days.
        window = series.values[TOTAL - HISTORY :]
        later = Seasons.for_history(STEP, HISTORY, start=EPOCH + TOTAL - HISTORY)
        out = model.apply(params, window, later, list(HORIZONS.values()), Z95)
        applies.append(time.perf_counter() - began)
        scores = np.full(TOTAL, np.nan)
        scores[TOTAL - HISTORY :] = out.scores
        events = _events(series)
        near = set().union(*events) | {max(e) + 1 for e in events}
        points = [i for i in range(HISTORY, TOTAL) if scores[i] > 1]
        flagged += len(points)
        hits += sum(1 for i in points if i in near)
        found = sum(1 for e in events if any(scores[i] > 1 for i in e | {max(e) + 1}))
        recalls.append(found / len(events))
    precision = hits / flagged if flagged else float("nan")
    return precision, recalls, statistics.median(fits), statistics.median(applies)


def _forecast_error(model: Model) -> dict[str, tuple[float, float]]:
    """Horizon -> (MASE, interval coverage) over shapes and origins."""
    errors: dict[str, list[float]] = {h: [] for h in HORIZONS}
    covered: dict[str, list[bool]] = {h: [] for h in HORIZONS}
    longest = max(HORIZONS.values())
    for k, shape in enumerate(SHAPES):
        points = HISTORY + (ORIGINS - 1) * ORIGIN_SPACING + longest
        y = seasonal(points, STEP, seed=40 + k, **SHAPES[shape]).values
        params = model.fit(y[:HISTORY], Seasons.for_history(STEP, HISTORY, start=EPOCH))
        scale = float(np.mean(np.abs(y[DAY:HISTORY] - y[: HISTORY - DAY])))
        for o in range(ORIGINS):
            end = HISTORY + o * ORIGIN_SPACING
            seasons = Seasons.for_history(STEP, HISTORY, start=EPOCH + end - HISTORY)
            out = model.apply(params, y[end - HISTORY : end], seasons, list(HORIZONS.values()), Z95)
            for label, h in HORIZONS.items():
                yhat, lower, upper = out.forecasts[h]
                truth = y[end - 1 + h]
                errors[label].append(abs(yhat - truth) / scale)
                covered[label].append(lower <= truth <= upper)
    return {h: (float(np.mean(errors[h])), float(np.mean(covered[h]))) for h in HORIZONS}


_RSS_PROBE = """
import json, sys, resource
import numpy as np
from tests.seasonal_series import seasonal
from exporter.forecast.models.base import Seasons
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
data = [seasonal(14 * 288, 300.0, seed=s).values for s in range(4)]
before = rss()
from exporter.forecast.models import models
m = models()[sys.argv[1]]()
seasons = Seasons.for_history(300.0, 14 * 288, start=5_000_000)
kept = [m.fit(y, seasons) for y in data]
outs = [m.apply(p, y, seasons, [72, 288, 576], 1.96) for p, y in zip(kept, data)]
print(json.dumps({"before": before, "after": rss()}))
"""


def _rss(name: str) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", _RSS_PROBE, name],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return data["before"], data["after"]


def _exporter_rss(config: Path | None, args: list[str]) -> float:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "exporter",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=error",
            *([f"--config.file={config}"] if config is not None else []),
            *args,
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc)
        for _ in range(5):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as r:
                r.read()
            time.sleep(1.1)
        for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")
    finally:
        proc.terminate()
        stop_process(proc, timeout=10)


def main() -> int:
    """Print the tables; returns 0."""
    known = models()
    missing = unavailable_models()
    print(
        f"series: {'/'.join(SHAPES)}, 16 days at 5m; fit on 14 days; 95% intervals; "
        "recall by shape in that order"
    )
    head = f"{'model':<15} {'precision':>9} {'recall':>7} {'by shape':>14}"
    head += "".join(f" {'MASE ' + h:>10} {'cover':>6}" for h in HORIZONS)
    head += f" {'fit s':>7} {'infer s':>8} {'fit/HW':>7} {'infer/HW':>8} {'RSS MB':>13}"
    print(head)
    reference: tuple[float, float] | None = None
    for name in ORDER:
        if name not in known:
            print(f"{name:<15} unavailable: {missing.get(name, 'unknown')}")
            continue
        model = known[name]()
        precision, recalls, fit, infer = _detection(model)
        if reference is None:
            reference = (fit, infer)
        shapes = "/".join(f"{r:.2f}" for r in recalls)
        row = f"{name:<15} {precision:>9.2f} {statistics.mean(recalls):>7.2f} {shapes:>14}"
        if model.forecasts:
            for mase, cover in _forecast_error(model).values():
                row += f" {mase:>10.2f} {cover:>6.2f}"
        else:
            row += f" {'-':>10} {'-':>6}" * len(HORIZONS)
        before, after = _rss(name)
        row += f" {fit:>7.3f} {infer:>8.3f} {fit / reference[0]:>7.1f} {infer / reference[1]:>8.1f}"
        row += f" {before:>5.0f}->{after:<5.0f}"
        print(row, flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-forecast-") as tmp:
        config = Path(tmp) / "exporter.yml"
        closed = f"http://127.0.0.1:{free_port()}"
        config.write_text(
            "collectors:\n  forecast:\n    enabled: true\n"
            f"    prometheus: {{url: '{closed}'}}\n"
            "    models: [holt_winters, seasonal_naive, robust_zscore, iqr, spike]\n"
            "    series: [{name: s, query: up}]\n"
        )
        plain = _exporter_rss(None, [])
        with_forecast = _exporter_rss(config, [])
    print(
        f"\nexporter RSS after 5 scrapes: default collectors {plain:.1f} MB (goal <= 45); "
        f"with the forecast collector (built-in models, nothing fitted) {with_forecast:.1f} MB "
        f"({with_forecast / plain:.2f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
