"""Auth-log parsing against fixtures in real sshd/sudo/su formats, counted exactly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from exporter.collector import CollectorContext
from exporter.collectors.authlog import (
    EVENTS,
    AuthCounts,
    AuthLogCollector,
    AuthLogConfig,
    FailureSources,
    parse_line,
)
from exporter.follow.files import FileFollower
from tests.conftest import FIXTURES
from tests.registry import exposition

AUTH = FIXTURES / "authlog"
EXPECTED = json.loads((AUTH / "expected.json").read_text())
_IP = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b2001:db8::[0-9a-f]+\b")


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_fixture_counted_exactly(fixture: str) -> None:
    want = EXPECTED[fixture]
    text = (AUTH / fixture).read_text()
    counts = AuthCounts(FailureSources(600, 1000))
    counts.consume(text)
    events, root, matched, ignored = counts.snapshot()
    expected_events = {
        (s, e): want["events"].get(f"{s}/{e}", 0) for s, evs in EVENTS.items() for e in evs
    }
    assert events == expected_events
    assert root == want["root_attempts"]
    assert matched == want["matched"]
    assert matched + ignored == want["lines"]
    assert counts.sources.count() == want["failure_sources"]


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_no_username_or_address_in_metrics(fixture: str, tmp_path: Path) -> None:
    text = (AUTH / fixture).read_text()
    collector = AuthLogCollector(
        CollectorContext(state_dir=tmp_path, config=AuthLogConfig(path=str(tmp_path / "x")))
    )
    collector.counts.consume(text)
    out = exposition(collector)
    assert "tocsin_auth_events_total" in out
    addresses = set(_IP.findall(text))
    assert addresses, "fixture has addresses to look for"
    for needle in addresses | set(EXPECTED[fixture]["users"]):
        assert needle not in out, needle
    for line in out.splitlines():
        if line.startswith("tocsin_auth_events_total{"):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
            assert set(labels) == {"service", "event"}
            assert labels["event"] in EVENTS[labels["service"]]


def test_message_repeated_counts_n_times() -> None:
    ev = parse_line(
        "Mar  3 10:08:01 h sshd[9]: message repeated 5 times: "
        "[ Failed password for root from 192.0.2.1 port 22 ssh2]"
    )
    assert ev is not None
    assert (ev.service, ev.event, ev.count, ev.user) == ("sshd", "failed_password", 5, "root")


def test_journal_style_line_without_timestamp() -> None:
    ev = parse_line("sshd[1]: Invalid user x from 192.0.2.1 port 5")
    assert ev is not None and ev.event == "invalid_user" and ev.source == "192.0.2.1"


def test_unrelated_lines_are_ignored() -> None:
    assert parse_line("Mar  3 10:00:00 h kernel: sshd: Failed password for root") is None
    assert parse_line("Mar  3 10:00:00 h CRON[1]: pam_unix(cron:session): session opened") is None
    logout = "Mar  3 10:00:00 h sshd[1]: Disconnected from user a 192.0.2.1 port 2"
    assert parse_line(logout) is None


def test_failure_sources_sliding_window_and_cap() -> None:
    src = FailureSources(window=60, max_sources=3)
    src.add("192.0.2.1", now=0)
    src.add("192.0.2.2", now=10)
    src.add("192.0.2.1", now=30)
    assert src.count(now=30) == 2
    assert src.count(now=71) == 1  # 192.0.2.2 (at 10) left the window; .1 was seen again at 30
    assert src.count(now=91) == 0
    for i in range(10):
        src.add(f"198.51.100.{i}", now=100)
    assert src.count(now=100) == 3


def test_sources_are_not_kept_in_clear() -> None:
    src = FailureSources(window=60, max_sources=10)
    src.add("203.0.113.9", now=0)
    assert all(b"203.0.113.9" not in k for k in src._seen)


def test_config_validation() -> None:
    from servicekit.loader import Loader

    loader = Loader("x.yml")
    # failure_window's bound fails the section; its validate() still reports the path.
    assert loader.load(AuthLogConfig, {"path": "relative.log", "failure_window": "0s"}) is None
    assert {p.key: p.message for p in loader.problems} == {
        "path": "expected an absolute path, got 'relative.log'",
        "failure_window": "expected a duration greater than 0, got 0s",
    }


def test_missing_auth_log_is_exported_and_logged_once(tmp_path: Path) -> None:
    from structlog.testing import capture_logs

    path = tmp_path / "auth.lgo"
    collector = AuthLogCollector(
        CollectorContext(state_dir=tmp_path / "state", config=AuthLogConfig(path=str(path)))
    )
    assert isinstance(collector.follower, FileFollower)
    with capture_logs() as logs:
        for _ in range(3):
            collector.follower.poll()
    out = exposition(collector)
    assert "\ntocsin_auth_log_file_present 0.0\n" in out
    assert "\ntocsin_auth_log_state_write_errors_total 0.0\n" in out
    assert [e["event"] for e in logs] == ["follow_file_missing"]
    path.write_text("")
    collector.follower.poll()
    assert "\ntocsin_auth_log_file_present 1.0\n" in exposition(collector)


def test_journal_source_has_no_file_presence(tmp_path: Path) -> None:
    collector = AuthLogCollector(
        CollectorContext(state_dir=tmp_path, config=AuthLogConfig(source="journal"))
    )
    out = exposition(collector)
    assert "tocsin_auth_log_file_present" not in out
    assert "\ntocsin_auth_log_state_write_errors_total 0.0\n" in out


@pytest.mark.timeout(120)
def test_long_hostile_lines_parse_in_linear_time() -> None:
    import time

    # `(.*?)\s*$` once re-scanned a run of blanks from every position: 16 KiB took 1.7 s,
    # and the follower hands on lines of up to 64 KiB.
    lines = [
        "Dec  1 10:00:00 h sshd[1]: " + " " * (64 << 10) + "y",
        "Dec  1 10:00:00 h sshd[1]: message repeated 2 times: [ " + " " * (64 << 10) + "x",
        "Dec  1 10:00:00 h sshd[1]: Failed password for " + " from x" * (9 << 10),
    ]
    started = time.monotonic()
    assert [parse_line(line) for line in lines] == [None, None, None]
    assert time.monotonic() - started < 5
