"""Access log, auth log and textfile collectors end to end, through a real exporter's /metrics.

The test writes the files while the exporter runs, rotates them every way logrotate does,
restarts the exporter, and checks exact counter values: no line lost, none counted twice.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from contextlib import AbstractContextManager
from pathlib import Path

from tests.conftest import FIXTURES
from tests.metrics import Series, scrape, wait_until
from tests.procs import ExporterProcess, run_exporter


def access_line(method: str, path: str = "/x", code: int = 200, size: int = 10) -> str:
    return (
        f'192.0.2.9 - - [10/Oct/2024:13:55:36 +0000] "{method} {path} HTTP/1.1" {code} {size} '
        f'"-" "test-agent" 0.020\n'
    )


def append(path: Path, text: str) -> None:
    with path.open("a") as f:
        f.write(text)


def requests(samples: Series, method: str, log: str = "web") -> float:
    return samples.get(
        ("tocsin_http_requests_total", (("code", "200"), ("log", log), ("method", method))), 0
    )


def write_config(tmp_path: Path, collectors: dict[str, object]) -> Path:
    config = tmp_path / "exporter.yml"
    config.write_text(
        json.dumps(
            {
                "global": {"state_dir": str(tmp_path / "state"), "min_interval": "0s"},
                "collectors": collectors,
            }
        )
    )
    return config


def exporter_with(
    config: Path, tmp_path: Path, *names: str
) -> AbstractContextManager[ExporterProcess]:
    flags = ["--collector.disable-defaults", *(f"--collector.{n}" for n in names)]
    return run_exporter([f"--config.file={config}", *flags], tmp_path)


class Access:
    """Writes GET lines and POST markers; a marker counted means the lines before it are."""

    def __init__(self, exp: ExporterProcess, log: Path) -> None:
        self.exp = exp
        self.log = log
        self.gets = 0
        self.posts = 0

    def get(self, n: int, into: Path | None = None) -> None:
        append(into or self.log, access_line("GET") * n)
        self.gets += n

    def settle(self) -> Series:
        """Write a marker to the live file and wait for it; returns that scrape."""
        append(self.log, access_line("POST"))
        self.posts += 1
        return wait_until(self.exp, lambda s: requests(s, "POST") >= self.posts)


def test_access_log_rotations_and_restart_count_exactly(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "access.log"
    config = write_config(
        tmp_path,
        {
            "accesslog": {
                "poll_interval": "50ms",
                "rotate_wait": "2s",
                "logs": [{"name": "web", "path": str(log), "start_at": "beginning"}],
            }
        },
    )
    with exporter_with(config, tmp_path, "accesslog") as exp:
        a = Access(exp, log)
        # The file does not exist yet when the exporter starts.
        time.sleep(0.2)
        a.get(100)
        s = a.settle()
        assert requests(s, "GET") == 100

        # Rename rotation, with the writer still appending to the old file for a while.
        with log.open("a") as writer:
            writer.write(access_line("GET") * 50)
            log.rename(logs / "access.log.1")
            writer.write(access_line("GET") * 20)
            writer.flush()
            a.gets += 70
            a.get(30)
            s = a.settle()
        assert requests(s, "GET") == a.gets == 200

        # copytruncate.
        a.get(40)
        a.settle()
        shutil.copy(log, logs / "access.log.2")
        os.truncate(log, 0)
        a.get(25)
        s = a.settle()
        assert requests(s, "GET") == a.gets == 265

        # Deleted and recreated.
        a.get(10)
        a.settle()
        log.unlink()
        a.get(15)
        s = a.settle()
        assert requests(s, "GET") == a.gets == 290
        assert (
            s[("tocsin_log_lines_total", (("log", "web"), ("outcome", "parsed")))] == 290 + a.posts
        )
        assert s[("tocsin_log_lines_total", (("log", "web"), ("outcome", "unparsed")))] == 0
        assert s[("tocsin_http_response_size_bytes_total", (("log", "web"),))] == 10 * (
            290 + a.posts
        )
        assert s[("tocsin_log_rotations_total", (("log", "web"),))] == 2
        assert s[("tocsin_log_truncations_total", (("log", "web"),))] == 1
        assert exp.stop() == 0

    # While the exporter is down: more lines, a partial line, then a rotation.
    append(log, access_line("GET") * 33)
    half = access_line("GET")
    append(log, half[:20])
    with log.open("a") as writer:
        log.rename(logs / "access.log.3")
        writer.write(half[20:])
    append(log, access_line("GET") * 5)

    with exporter_with(config, tmp_path, "accesslog") as exp:
        a = Access(exp, log)
        s = a.settle()
        # Counters restart at 0 in a new process; only the unread lines are counted.
        assert requests(s, "GET") == 33 + 1 + 5
        assert s[("tocsin_log_lines_total", (("log", "web"), ("outcome", "unparsed")))] == 0


def test_access_log_cardinality_bounded_through_metrics(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text("")
    config = write_config(
        tmp_path,
        {
            "accesslog": {
                "poll_interval": "50ms",
                "label_limit": 20,
                "logs": [
                    {"name": "web", "path": str(log), "start_at": "beginning", "route_label": True}
                ],
            }
        },
    )
    with exporter_with(config, tmp_path, "accesslog") as exp:
        append(log, "".join(access_line("GET", f"/p/page-{i}.html") for i in range(100_000)))
        line_key = ("tocsin_log_lines_total", (("log", "web"), ("outcome", "parsed")))
        wait_until(exp, lambda s: s.get(line_key) == 100_000, timeout=120)
        text, s = scrape(exp.port)
    routes = {dict(k[1])["route"] for k in s if k[0] == "tocsin_http_requests_total"}
    assert len(routes) == 21 and "__other__" in routes
    assert (
        s[
            (
                "tocsin_exporter_label_overflow_total",
                (("collector", "accesslog"), ("label", "route")),
            )
        ]
        == 100_000 - 20
    )
    assert sum(v for k, v in s.items() if k[0] == "tocsin_http_requests_total") == 100_000
    assert len(text) < 50_000


def test_auth_log_fixtures_through_metrics(tmp_path: Path) -> None:
    auth_dir = FIXTURES / "authlog"
    expected = json.loads((auth_dir / "expected.json").read_text())
    log = tmp_path / "auth.log"
    config = write_config(
        tmp_path, {"authlog": {"path": str(log), "poll_interval": "50ms", "start_at": "end"}}
    )
    want_events: dict[str, int] = {}
    for e in expected.values():
        for k, v in e["events"].items():
            want_events[k] = want_events.get(k, 0) + v
    total_lines = sum(e["lines"] for e in expected.values())
    with exporter_with(config, tmp_path, "authlog") as exp:
        text_all = ""
        for name in sorted(expected):
            text = (auth_dir / name).read_text()
            text_all += text
            # Written in pieces that split lines, as a syslog daemon's buffered writes do.
            for i in range(0, len(text), 700):
                append(log, text[i : i + 700])
                time.sleep(0.01)
        key = ("tocsin_auth_log_lines_total", (("outcome", "ignored"),))
        matched = ("tocsin_auth_log_lines_total", (("outcome", "matched"),))
        s = wait_until(exp, lambda s: s.get(key, 0) + s.get(matched, 0) == total_lines)
        metrics_text, s = scrape(exp.port)
    events = {
        f"{dict(k[1])['service']}/{dict(k[1])['event']}": v
        for k, v in s.items()
        if k[0] == "tocsin_auth_events_total"
    }
    assert {k: v for k, v in events.items() if v} == want_events
    assert s[("tocsin_auth_root_login_attempts_total", ())] == sum(
        e["root_attempts"] for e in expected.values()
    )
    assert s[("tocsin_auth_failure_sources", ())] == sum(
        e["failure_sources"] for e in expected.values()
    )
    addresses = set(re.findall(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b2001:db8::[0-9a-f]+\b", text_all))
    users = {u for e in expected.values() for u in e["users"]}
    for needle in addresses | users:
        assert needle not in metrics_text, needle


def test_textfile_read_at_scrape_time(tmp_path: Path) -> None:
    directory = tmp_path / "textfile"
    shutil.copytree(FIXTURES / "textfile", directory)
    config = write_config(tmp_path, {"textfile": {"directory": str(directory)}})
    with exporter_with(config, tmp_path, "textfile") as exp:
        _, s = scrape(exp.port)
        assert s[("node_textfile_scrape_error", ())] == 1
        assert s[("app_jobs_done", (("queue", "slow"),))] == 2
        (directory / "malformed.prom").unlink()
        (directory / "timestamps.prom").unlink()
        (directory / "jobs_more.prom").write_text('app_jobs_done{queue="slow"} 3\n')
        s = wait_until(exp, lambda s: s.get(("app_jobs_done", (("queue", "slow"),))) == 3)
        assert s[("node_textfile_scrape_error", ())] == 0
