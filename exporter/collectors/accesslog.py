"""HTTP request metrics from access logs: nginx/Apache combined and common, JSON lines, regex.

Each configured log is followed in the background (`exporter.follow.files`, rotation-safe);
lines are parsed in batches and folded into counters that `collect()` only reads. Parsing
is `exporter.accessformats`.

Every label is bounded: `method` to the standard methods, `code` and `route` to
`label_limit` values each; the rest become `__other__` (see `exporter.cardinality`).
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt, MinLen
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.metrics_core import Metric

from exporter.accessformats import Batch, Parser
from exporter.cardinality import OTHER, LabelLimiter, overflow_family
from exporter.collector import Collector, CollectorContext, register
from exporter.follow.files import DEFAULT_MAX_LINE_BYTES, FileFollower, StartAt
from exporter.follow.positions import state_path
from exporter.linearregex import compile_linear
from servicekit.values import Duration

NAME = "accesslog"

STANDARD_METHODS = frozenset(
    ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]
)
DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]
_UNIT_SCALE = {"s": 1.0, "ms": 0.001, "us": 0.000001}

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEXID = re.compile(r"^[0-9a-fA-F]{16,}$")


@dataclass
class Route:
    """A path pattern and the route label it stands for (first match wins)."""

    match: re.Pattern[str]
    name: str


@dataclass
class JsonFields:
    """Field names (dotted for nested objects) of a JSON-lines access log."""

    method: str = "method"
    status: str = "status"
    path: str = "path"
    bytes: str = "body_bytes_sent"
    duration: str = "request_time"
    request: str = "request"


@dataclass
class LogConfig:
    """One access log to follow."""

    name: Annotated[str, MinLen(1)]  # the `log` label
    path: str
    format: Literal["combined", "common", "json", "regex"] = "combined"
    regex: re.Pattern[str] | None = None
    json_fields: JsonFields = field(default_factory=JsonFields)
    duration_unit: Literal["s", "ms", "us"] = "s"
    buckets: list[float] = field(default_factory=lambda: list(DEFAULT_BUCKETS))
    route_label: bool = False
    routes: list[Route] = field(default_factory=list)
    start_at: StartAt = "end"

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if self.format == "regex":
            if self.regex is None:
                problems.append(("regex", "required when format is regex"))
            elif "status" not in self.regex.groupindex:
                problems.append(("regex", "expected a named group (?P<status>...)"))
        elif self.regex is not None:
            problems.append(("regex", "only used when format is regex"))
        if self.regex is not None:
            problems.extend(_linear_problems("regex", self.regex))
        for i, route in enumerate(self.routes):
            problems.extend(_linear_problems(f"routes[{i}].match", route.match))
        if any(b <= 0 for b in self.buckets) or self.buckets != sorted(set(self.buckets)):
            problems.append(("buckets", "expected positive numbers in increasing order"))
        if self.routes and not self.route_label:
            problems.append(("routes", "set route_label: true to use routes"))
        return problems


@dataclass
class AccessLogConfig:
    """`collectors.accesslog`: the logs to follow and how."""

    logs: list[LogConfig] = field(default_factory=list)
    label_limit: Annotated[int, Ge(1)] = 100
    poll_interval: Annotated[Duration, Gt(0)] = Duration(0.25)
    rotate_wait: Duration = Duration(5.0)
    # Longer lines are cut here before parsing and the rest of the line skipped.
    max_line_bytes: Annotated[int, Ge(256)] = DEFAULT_MAX_LINE_BYTES

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        names = [lc.name for lc in self.logs]
        for i, n in enumerate(names):
            if names.index(n) != i:
                problems.append((f"logs[{i}].name", f"duplicate log name {n!r}"))
        return problems


def _linear_problems(key: str, pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    """A problem for `key` when RE2 cannot run `pattern` (it would need backtracking)."""
    try:
        compile_linear(pattern.pattern)
    except ValueError as exc:
        return [(key, str(exc))]
    return []


def normalise_path(path: str) -> str:
    """Drop the query string and replace id-like segments (numbers, UUIDs, hex) with `:id`.

    An absolute URI (a proxy request) keeps only its path; anything else that is not a
    path (`*`, a garbled request) is `__other__`.
    """
    path = path.split("?", 1)[0].split("#", 1)[0]
    if path.startswith(("http://", "https://")):
        path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
    if not path.startswith("/"):
        return OTHER
    parts = path.split("/")
    for i, seg in enumerate(parts):
        if seg and (seg.isdigit() or _UUID.match(seg) or _HEXID.match(seg)):
            parts[i] = ":id"
    return "/".join(parts)


class LogMetrics:
    """The bounded counters of one access log; merged into by the follower's thread."""

    _CACHE_MAX = 10000

    def __init__(self, cfg: LogConfig, label_limit: int) -> None:
        self.cfg = cfg
        self.scale = _UNIT_SCALE[cfg.duration_unit]
        self.buckets = list(cfg.buckets)
        self.method = LabelLimiter(NAME, "method", len(STANDARD_METHODS), STANDARD_METHODS)
        self.code = LabelLimiter(NAME, "code", label_limit)
        self.route = LabelLimiter(NAME, "route", label_limit)
        self.requests: dict[tuple[str, str, str], float] = {}
        self.bytes = 0.0
        self.bucket_counts = [0] * (len(self.buckets) + 1)
        self.duration_sum = 0.0
        self.parsed = 0
        self.unparsed = 0
        self._routes = [(compile_linear(r.match.pattern).search, r.name) for r in cfg.routes]
        self._routes_cache: dict[str, str] = {}
        self._lock = threading.Lock()

    def route_of(self, path: str) -> str:
        """The route for a path: the first configured pattern that matches, else normalised."""
        cached = self._routes_cache.get(path)
        if cached is not None:
            return cached
        route = None
        for search, name in self._routes:
            if search(path):
                route = name
                break
        if route is None:
            route = normalise_path(path)
        if len(self._routes_cache) >= self._CACHE_MAX:
            self._routes_cache.clear()
        self._routes_cache[path] = route
        return route

    def merge(self, batch: Batch) -> None:
        """Fold a parsed batch in, bounding every label."""
        keyed: Counter[tuple[str, str, str]] = Counter()
        for key, n in batch.requests.items():
            method = self.method(key[0], n)
            code = key[1] if len(key[1]) == 3 and "1" <= key[1][0] <= "5" else OTHER
            code = self.code(code, n) if code != OTHER else code
            route = ""
            if len(key) == 3:
                route = self.route_of(key[2])
                route = self.route(route, n) if route != OTHER else route
            keyed[(method, code, route)] += n
        observed: list[tuple[int, float, int]] = []
        for text, n in batch.durations.items():
            try:
                seconds = float(text) * self.scale
            except ValueError:
                continue
            observed.append((bisect_left(self.buckets, seconds), seconds, n))
        with self._lock:
            for k, n in keyed.items():
                self.requests[k] = self.requests.get(k, 0) + n
            self.bytes += batch.bytes
            for idx, seconds, n in observed:
                self.bucket_counts[idx] += n
                self.duration_sum += seconds * n
            self.parsed += batch.parsed
            self.unparsed += batch.lines - batch.parsed

    def snapshot(self) -> dict[str, Any]:
        """A consistent copy of every counter."""
        with self._lock:
            return {
                "requests": dict(self.requests),
                "bytes": self.bytes,
                "buckets": list(self.bucket_counts),
                "sum": self.duration_sum,
                "parsed": self.parsed,
                "unparsed": self.unparsed,
            }


class LogPipeline:
    """One access log: its follower, parser and counters."""

    def __init__(self, cfg: LogConfig, path: Path, state_file: Path, top: AccessLogConfig):
        self.cfg = cfg
        self.parser = Parser(cfg)
        self.metrics = LogMetrics(cfg, top.label_limit)
        self.follower = FileFollower(
            path,
            self.consume,
            state_file,
            start_at=cfg.start_at,
            poll_interval=float(top.poll_interval),
            rotate_wait=float(top.rotate_wait),
            max_line_bytes=top.max_line_bytes,
        )

    def consume(self, text: str) -> None:
        """The follower's sink: parse a chunk and count it."""
        self.metrics.merge(self.parser.parse(text))


@register
class AccessLogCollector(Collector):
    """Request rate, errors, sizes and durations from followed HTTP access logs."""

    name = NAME
    default_enabled = False
    description = "HTTP request metrics from nginx/Apache/JSON/regex access logs"
    Config = AccessLogConfig
    config: AccessLogConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self.pipelines = [
            LogPipeline(
                lc,
                self.paths.root(lc.path),
                state_path(ctx.state_dir, NAME, lc.path),
                self.config,
            )
            for lc in self.config.logs
        ]

    async def start(self) -> None:
        for p in self.pipelines:
            await p.follower.start()

    async def stop(self) -> None:
        for p in self.pipelines:
            await p.follower.stop()

    def collect(self) -> Iterable[Metric]:
        with_route = any(p.cfg.route_label for p in self.pipelines)
        labels = ["log", "method", "code", *(["route"] if with_route else [])]
        requests = CounterMetricFamily(
            "tocsin_http_requests", "HTTP requests by method and status code.", labels=labels
        )
        duration = HistogramMetricFamily(
            "tocsin_http_request_duration_seconds",
            "HTTP request duration, from the log's latency field.",
            labels=["log"],
        )
        size = CounterMetricFamily(
            "tocsin_http_response_size_bytes",
            "Bytes sent in HTTP response bodies.",
            labels=["log"],
        )
        lines = CounterMetricFamily(
            "tocsin_log_lines", "Log lines read, by parse outcome.", labels=["log", "outcome"]
        )
        for p in self.pipelines:
            name = p.cfg.name
            snap = p.metrics.snapshot()
            for (method, code, route), n in sorted(snap["requests"].items()):
                requests.add_metric([name, method, code, *([route] if with_route else [])], n)
            cumulative, running = [], 0
            bounds = [*p.metrics.buckets, float("inf")]
            for bound, count in zip(bounds, snap["buckets"], strict=True):
                running += count
                cumulative.append((_le(bound), running))
            duration.add_metric([name], cumulative, snap["sum"])
            size.add_metric([name], snap["bytes"])
            lines.add_metric([name, "parsed"], snap["parsed"])
            lines.add_metric([name, "unparsed"], snap["unparsed"])
        yield from (requests, duration, size, lines)
        yield from _follower_families(self.pipelines)
        yield overflow_family(NAME)


def _follower_families(pipelines: list[LogPipeline]) -> list[Metric]:
    """What each log's follower counts: rotations, truncations, read errors, presence, cut
    lines and failed position writes."""
    rotations = CounterMetricFamily(
        "tocsin_log_rotations",
        "Times the followed file was replaced (rotated, moved or recreated).",
        labels=["log"],
    )
    truncations = CounterMetricFamily(
        "tocsin_log_truncations",
        "Times the followed file was truncated (copytruncate) and read again from 0.",
        labels=["log"],
    )
    errors = CounterMetricFamily(
        "tocsin_log_read_errors", "Errors opening or reading the log.", labels=["log"]
    )
    present = GaugeMetricFamily(
        "tocsin_log_file_present",
        "1 when the log file exists and is open for reading; 0 while it is missing or "
        "cannot be opened (nothing is counted from it meanwhile).",
        labels=["log"],
    )
    long_lines = CounterMetricFamily(
        "tocsin_log_long_lines",
        "Lines longer than max_line_bytes: cut there before parsing, the rest skipped.",
        labels=["log"],
    )
    state_errors = CounterMetricFamily(
        "tocsin_log_state_write_errors",
        "Failed attempts to persist the read position in the state directory.",
        labels=["log"],
    )
    for p in pipelines:
        name, follower = p.cfg.name, p.follower
        rotations.add_metric([name], follower.rotations)
        truncations.add_metric([name], follower.truncations)
        errors.add_metric([name], follower.read_errors)
        present.add_metric([name], 1.0 if follower.present else 0.0)
        long_lines.add_metric([name], follower.long_lines)
        state_errors.add_metric([name], follower.state_write_errors)
    return [rotations, truncations, errors, present, long_lines, state_errors]


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))
