"""Access-log parsing and bounded metrics, on fixtures in nginx, Apache and Caddy formats."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from exporter.accessformats import Parser
from exporter.cardinality import OTHER, overflow_family
from exporter.collector import CollectorContext
from exporter.collectors.accesslog import (
    AccessLogCollector,
    AccessLogConfig,
    JsonFields,
    LogConfig,
    LogMetrics,
    Route,
    normalise_path,
)
from servicekit.loader import Loader
from tests.conftest import FIXTURES
from tests.metrics import parse_series
from tests.registry import exposition, registry

ACCESS = FIXTURES / "accesslog"


def run(cfg: LogConfig, text: str, limit: int = 100) -> LogMetrics:
    metrics = LogMetrics(cfg, limit)
    metrics.merge(Parser(cfg).parse(text))
    return metrics


def test_nginx_combined_with_request_time() -> None:
    cfg = LogConfig(name="web", path="/x", route_label=True)
    snap = run(cfg, (ACCESS / "nginx-combined-rt.log").read_text()).snapshot()
    assert snap["requests"] == {
        ("GET", "200", "/api/users/:id"): 1,
        ("POST", "201", "/api/users"): 1,
        ("GET", "404", "/api/users/:id/orders"): 1,
        (OTHER, "400", OTHER): 2,
        (OTHER, "405", "/dav"): 1,
        ("GET", "304", "/static/app.js"): 1,
        ("DELETE", "500", "/api/users/:id"): 1,
    }
    assert (snap["parsed"], snap["unparsed"]) == (8, 1)
    assert snap["bytes"] == 903
    assert snap["buckets"] == [4, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1]
    assert snap["sum"] == pytest.approx(14.137)


def test_apache_common_with_dash_bytes_and_blank_line() -> None:
    cfg = LogConfig(name="a", path="/x", format="common")
    snap = run(cfg, (ACCESS / "apache-common.log").read_text()).snapshot()
    assert snap["requests"] == {
        ("GET", "200", ""): 1,
        ("HEAD", "200", ""): 1,
        ("GET", "404", ""): 1,
    }
    assert (snap["parsed"], snap["unparsed"]) == (3, 1)
    assert snap["bytes"] == 2535
    assert sum(snap["buckets"]) == 0


def test_json_lines_with_nested_fields() -> None:
    fields = JsonFields(
        method="request.method",
        path="request.uri",
        status="status",
        bytes="size",
        duration="duration",
    )
    cfg = LogConfig(name="c", path="/x", format="json", json_fields=fields, route_label=True)
    snap = run(cfg, (ACCESS / "caddy.jsonl").read_text()).snapshot()
    assert snap["requests"] == {("GET", "200", "/a/:id"): 1, ("POST", "503", "/a"): 1}
    assert (snap["parsed"], snap["unparsed"]) == (2, 2)
    assert snap["bytes"] == 100
    assert sum(snap["buckets"]) == 2 and snap["sum"] == pytest.approx(2.05)


def test_json_request_field_and_millisecond_durations() -> None:
    cfg = LogConfig(name="j", path="/x", format="json", duration_unit="ms")
    text = '{"request": "PUT /x HTTP/1.1", "status": "204", "request_time": 30}\n'
    snap = run(cfg, text).snapshot()
    assert snap["requests"] == {("PUT", "204", ""): 1}
    assert snap["sum"] == pytest.approx(0.03)


def test_custom_regex_with_named_groups() -> None:
    pattern = re.compile(
        r"^(?P<method>\w+) (?P<path>\S+) -> (?P<status>\d+) in (?P<duration>\d+)us, "
        r"(?P<bytes>\d+)B$"
    )
    cfg = LogConfig(name="r", path="/x", format="regex", regex=pattern, duration_unit="us")
    snap = run(cfg, "GET /a -> 200 in 1500us, 10B\nGET /a -> xx\nPOST /b -> 502 in 7us, 0B\n")
    s = snap.snapshot()
    assert s["requests"] == {("GET", "200", ""): 1, ("POST", "502", ""): 1}
    assert (s["parsed"], s["unparsed"], s["bytes"]) == (2, 1, 10)
    assert s["sum"] == pytest.approx(0.001507)


def test_configured_routes_win_over_normalisation() -> None:
    cfg = LogConfig(
        name="w",
        path="/x",
        route_label=True,
        routes=[Route(match=re.compile(r"^/u/[^/]+/avatar"), name="/u/:name/avatar")],
    )
    m = LogMetrics(cfg, 10)
    assert m.route_of("/u/bob/avatar.png") == "/u/:name/avatar"
    assert m.route_of("/u/42") == "/u/:id"


def test_normalise_path() -> None:
    assert normalise_path("/a/123/b/550e8400-e29b-41d4-a716-446655440000?x=1") == "/a/:id/b/:id"
    assert normalise_path("/blob/0123456789abcdef0123") == "/blob/:id"
    assert normalise_path("/v2/items") == "/v2/items"
    assert normalise_path("http://example.com/p/7") == "/p/:id"
    assert normalise_path("*") == OTHER


def test_status_codes_outside_http_range_are_other() -> None:
    cfg = LogConfig(name="s", path="/x", format="json")
    snap = run(cfg, '{"method":"GET","status":999}\n{"method":"GET","status":200}\n').snapshot()
    assert snap["requests"] == {("GET", OTHER, ""): 1, ("GET", "200", ""): 1}


def test_100k_distinct_paths_stay_bounded() -> None:
    cfg = LogConfig(name="flood", path="/x", route_label=True)
    lines = [
        f'192.0.2.1 - - [10/Oct/2024:13:55:36 +0000] "GET /f/file{i}.css HTTP/1.1" 200 1 "-" "-"\n'
        for i in range(100_000)
    ]
    before = {
        (s.labels["collector"], s.labels["label"]): s.value
        for s in overflow_family("accesslog").samples
    }
    metrics = LogMetrics(cfg, 50)
    parser = Parser(cfg)
    sizes = []
    for start in range(0, len(lines), 10_000):
        metrics.merge(parser.parse("".join(lines[start : start + 10_000])))
        sizes.append((len(metrics.requests), len(metrics.route), len(metrics.code)))
    snap = metrics.snapshot()
    routes = {k[2] for k in snap["requests"]}
    assert len(routes) == 51 and OTHER in routes
    assert sum(snap["requests"].values()) == 100_000
    assert snap["requests"][("GET", "200", OTHER)] == 100_000 - 50
    assert len(metrics.route) == 50
    # Every structure that outlives a batch stopped growing once the cap was reached.
    assert set(sizes) == {(51, 50, 1)}
    assert len(metrics._routes_cache) <= LogMetrics._CACHE_MAX
    after = {
        (s.labels["collector"], s.labels["label"]): s.value
        for s in overflow_family("accesslog").samples
    }
    key = ("accesslog", "route")
    assert after[key] - before.get(key, 0) == 100_000 - 50


def test_collector_renders_every_family(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text((ACCESS / "nginx-combined-rt.log").read_text())
    cfg = AccessLogConfig(logs=[LogConfig(name="web", path=str(log), start_at="beginning")])
    collector = AccessLogCollector(CollectorContext(state_dir=tmp_path / "state", config=cfg))
    collector.pipelines[0].follower.poll()
    text = exposition(collector)
    samples = parse_series(text)
    assert (
        samples[
            ("tocsin_http_requests_total", (("code", "200"), ("log", "web"), ("method", "GET")))
        ]
        == 1
    )
    assert samples[("tocsin_http_request_duration_seconds_count", (("log", "web"),))] == 8
    assert (
        samples[("tocsin_http_request_duration_seconds_bucket", (("le", "0.005"), ("log", "web")))]
        == 4
    )
    assert samples[("tocsin_http_response_size_bytes_total", (("log", "web"),))] == 903
    assert samples[("tocsin_log_lines_total", (("log", "web"), ("outcome", "unparsed")))] == 1
    assert "192.0.2" not in text


def test_config_problems_name_the_key() -> None:
    loader = Loader("x.yml")
    loader.load(
        AccessLogConfig,
        {
            "logs": [
                {"name": "a", "path": "/a", "format": "regex"},
                {
                    "name": "a",
                    "path": "/b",
                    "buckets": [1, 0.5],
                    "routes": [{"match": "(", "name": "x"}],
                },
                {"name": "c", "path": "/c", "format": "xml"},
            ]
        },
    )
    keys = {p.key for p in loader.problems}
    assert "logs[0].regex" in keys
    assert "logs[1].routes[0].match" in keys
    assert "logs[2].format" in keys


def test_backtracking_regexes_are_refused_at_config_time() -> None:
    loader = Loader("x.yml")
    loader.load(
        AccessLogConfig,
        {
            "logs": [
                {"name": "a", "path": "/a", "format": "regex", "regex": r"(?P<status>\d+)(?=x)"},
                {
                    "name": "b",
                    "path": "/b",
                    "route_label": True,
                    "routes": [{"match": r"^/(\w+)/\1", "name": "x"}],
                },
            ]
        },
    )
    problems = {p.key: p.message for p in loader.problems}
    assert set(problems) == {"logs[0].regex", "logs[1].routes[0].match"}
    assert all("RE2" in m for m in problems.values()), problems


# Each line of these took time quadratic in its length (seconds at 8 KiB) before the
# built-in patterns were made possessive; 1 MiB each must now be instant.
HOSTILE_TAILS = [
    '" 2000 12 "-" "-"',  # a 4-digit status
    "",  # the request's quote never closes
    ' 200 12 "-',  # the referer's quote never closes
    '" 200 "' + "\\" * 1000,  # escapes where the bytes should be
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("tail", HOSTILE_TAILS)
@pytest.mark.parametrize("fmt", ["combined", "common"])
def test_unmatched_megabyte_lines_parse_in_linear_time(fmt: str, tail: str) -> None:
    import time

    line = '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /' + "a " * (1 << 19) + tail
    good = '1.2.3.4 - - [t] "GET / HTTP/1.1" 200 5 "-" "-"\n'
    started = time.monotonic()
    s = run(LogConfig(name="h", path="/x", format=fmt), good + line + "\n" + good).snapshot()
    assert time.monotonic() - started < 10
    assert (s["parsed"], s["unparsed"]) == (2, 1)


@pytest.mark.timeout(60)
def test_user_regex_runs_in_linear_time() -> None:
    import time

    # Exponential on Python's re for a line of `a`s that does not end in `b`.
    cfg = LogConfig(
        name="r", path="/x", format="regex", regex=re.compile(r"^(a+)+b (?P<status>\d+)")
    )
    started = time.monotonic()
    s = run(cfg, "a" * 100_000 + "\n" + "aab 200\n").snapshot()
    assert time.monotonic() - started < 10
    assert (s["parsed"], s["unparsed"]) == (1, 1)


def test_missing_log_and_unwritable_state_are_exported(tmp_path: Path) -> None:
    from structlog.testing import capture_logs

    log = tmp_path / "acess.log"  # the typo an operator makes
    blocker = tmp_path / "state"
    blocker.write_text("not a directory")
    cfg = AccessLogConfig(logs=[LogConfig(name="web", path=str(log), start_at="beginning")])
    collector = AccessLogCollector(CollectorContext(state_dir=blocker, config=cfg))
    follower = collector.pipelines[0].follower
    reg = registry(collector)
    web = (("log", "web"),)
    with capture_logs() as logs:
        follower.poll()
        follower.poll()
        samples = parse_series(exposition(reg))
        assert samples[("tocsin_log_file_present", web)] == 0
        assert samples[("tocsin_log_state_write_errors_total", web)] == 0
        log.write_text((ACCESS / "nginx-combined-rt.log").read_text())
        follower.poll()
        follower.poll()
    samples = parse_series(exposition(reg))
    assert samples[("tocsin_log_file_present", web)] == 1
    assert samples[("tocsin_http_request_duration_seconds_count", web)] == 8
    assert samples[("tocsin_log_state_write_errors_total", web)] == 1
    assert [e["event"] for e in logs if e["log_level"] != "info"] == [
        "follow_file_missing",
        "follow_state_write_failed",
    ]
