"""Authentication events from the auth log (file or journald): sshd, sudo and su.

Each line maps to at most one event from a fixed set, so `tocsin_auth_events_total` has a
bounded number of series. Usernames and addresses never become labels: failing source
addresses only feed `tocsin_auth_failure_sources`, a count of distinct sources in a
sliding window, kept in memory as salted hashes (never written to disk).

rsyslog's `message repeated N times: [ ... ]` counts as N events.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Literal

from annotated_types import Ge, Gt
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.follow.files import FileFollower, StartAt
from exporter.follow.journal import JournalFollower
from exporter.follow.positions import state_path
from servicekit.values import Duration

NAME = "authlog"

# Events whose source address counts as a failing source.
_SSHD_FAILURES = (
    "failed_password",
    "failed_publickey",
    "failed_keyboard_interactive",
    "failed_other",
    "invalid_user",
    "user_not_allowed",
    "root_login_refused",
    "max_auth_attempts",
)
FAILURE_EVENTS = frozenset(_SSHD_FAILURES)

EVENTS: dict[str, tuple[str, ...]] = {
    "sshd": (
        "accepted_password",
        "accepted_publickey",
        "accepted_keyboard_interactive",
        "accepted_other",
        *_SSHD_FAILURES,
        "preauth_disconnect",
        "preauth_timeout",
    ),
    "sudo": (
        "command",
        "auth_failure",
        "incorrect_password",
        "not_in_sudoers",
        "command_not_allowed",
        "host_not_allowed",
        "password_required",
    ),
    "su": ("success", "auth_failure", "failed"),
}

# The message runs to the end of the line; its trailing blanks are stripped in code, since
# `(.*?)\s*$` re-scans a run of blanks from every position (quadratic in the line).
_PROGRAM = re.compile(r"(?:^|\s)(sshd(?:-session)?|sudo|su(?:-l)?)(?:\[\d+\])?: (.*)", re.ASCII)
_BLANKS = " \t\r\f\v"
_REPEATED = re.compile(r"^message repeated (\d+) times: \[ ?(.*?) ?\]$")
_PORT = r" port \d+"

_SSHD: list[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[str, str | None, str | None]]]]
_SSHD = [
    (
        re.compile(r"^Accepted (\S+) for (.*?) from (\S+)" + _PORT),
        lambda m: ("accepted_" + _method(m[1]), m[2], m[3]),
    ),
    (
        re.compile(r"^Failed (\S+) for (invalid user )?(.*?) from (\S+)" + _PORT),
        lambda m: ("failed_" + _method(m[1]), m[3], m[4]),
    ),
    (
        re.compile(r"^Invalid user (.*?) from (\S+)(?:" + _PORT + ")?$"),
        lambda m: ("invalid_user", None, m[2]),
    ),
    (
        re.compile(r"^User (\S+) from (\S+) not allowed because "),
        lambda m: ("user_not_allowed", None, m[2]),
    ),
    (
        re.compile(r"^ROOT LOGIN REFUSED FROM (\S+)"),
        lambda m: ("root_login_refused", "root", m[1]),
    ),
    (
        re.compile(
            r"^error: maximum authentication attempts exceeded for (?:invalid user )?.*? "
            r"from (\S+)" + _PORT
        ),
        lambda m: ("max_auth_attempts", None, m[1]),
    ),
    (
        re.compile(
            r"^(?:Connection closed by|Disconnected from)(?: (?:authenticating|invalid) user .*?)?"
            r" (\S+)(?:" + _PORT + r")? \[preauth\]$"
        ),
        lambda m: ("preauth_disconnect", None, m[1]),
    ),
    (
        re.compile(r"^Timeout before authentication for (\S+)"),
        lambda m: ("preauth_timeout", None, m[1]),
    ),
]

_SUDO_HEAD = r"^\s*\S+ : (?:.*? ; )?"
_SUDO: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^pam_unix\(sudo(?:-i)?:auth\): authentication failure"), "auth_failure"),
    (re.compile(_SUDO_HEAD + r"\d+ incorrect password attempts? ;"), "incorrect_password"),
    (re.compile(_SUDO_HEAD + r"user NOT in sudoers ;"), "not_in_sudoers"),
    (re.compile(_SUDO_HEAD + r"command not allowed ;"), "command_not_allowed"),
    (re.compile(_SUDO_HEAD + r"user NOT authorized on host ;"), "host_not_allowed"),
    (re.compile(_SUDO_HEAD + r"a password is required ;"), "password_required"),
    (re.compile(r"^\s*\S+ : (?:TTY=\S* ; )?PWD=.* ; USER=\S+ ; COMMAND="), "command"),
]

_SU: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^pam_unix\(su(?:-l)?:auth\): authentication failure"), "auth_failure"),
    (re.compile(r"^FAILED (?:SU \(to \S+\) \S+ on \S+|su for \S+ by \S+)"), "failed"),
    (re.compile(r"^(?:\(to \S+\) \S+ on \S+|Successful su for \S+ by \S+)"), "success"),
]


def _method(raw: str) -> str:
    if raw in ("password", "publickey"):
        return raw
    if raw.startswith("keyboard-interactive"):
        return "keyboard_interactive"
    return "other"


@dataclass(frozen=True)
class AuthEvent:
    """One recognised line: what happened, to whom and from where (never exported)."""

    service: str
    event: str
    count: int = 1
    user: str | None = None
    source: str | None = None


def parse_line(line: str) -> AuthEvent | None:
    """The auth event in one syslog line (`... prog[pid]: message`), or None."""
    m = _PROGRAM.search(line)
    if m is None:
        return None
    prog, msg = m[1], m[2].rstrip(_BLANKS)
    count = 1
    rep = _REPEATED.match(msg)
    if rep is not None:
        count, msg = int(rep[1]), rep[2]
    if prog.startswith("sshd"):
        for pattern, build in _SSHD:
            hit = pattern.match(msg)
            if hit is not None:
                event, user, source = build(hit)
                return AuthEvent("sshd", event, count, user, source)
        return None
    table = _SUDO if prog == "sudo" else _SU
    service = "sudo" if prog == "sudo" else "su"
    for pattern, event in table:
        if pattern.match(msg):
            return AuthEvent(service, event, count)
    return None


class FailureSources:
    """Distinct source addresses seen failing within a sliding window, as salted hashes."""

    def __init__(self, window: float, max_sources: int) -> None:
        self.window = window
        self.max_sources = max_sources
        self._salt = os.urandom(16)
        self._seen: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def add(self, source: str, now: float | None = None) -> None:
        """Record a failure from `source` now."""
        now = time.monotonic() if now is None else now
        key = hashlib.blake2b(source.encode(), key=self._salt, digest_size=16).digest()
        with self._lock:
            # Re-inserting keeps the dict ordered oldest-first, so pruning stops early.
            self._seen.pop(key, None)
            self._seen[key] = now
            while len(self._seen) > self.max_sources:
                del self._seen[next(iter(self._seen))]

    def count(self, now: float | None = None) -> int:
        """Distinct sources that failed within the window."""
        now = time.monotonic() if now is None else now
        horizon = now - self.window
        with self._lock:
            while self._seen:
                oldest = next(iter(self._seen))
                if self._seen[oldest] >= horizon:
                    break
                del self._seen[oldest]
            return len(self._seen)


@dataclass
class AuthLogConfig:
    """`collectors.authlog`: where to read authentication messages."""

    source: Literal["file", "journal"] = "file"
    path: str = "/var/log/auth.log"
    start_at: StartAt = "end"
    journal_matches: list[str] = field(
        default_factory=lambda: ["SYSLOG_FACILITY=4", "SYSLOG_FACILITY=10"]
    )
    journal_directory: str | None = None
    journalctl: str = "journalctl"
    failure_window: Annotated[Duration, Gt(0)] = Duration(600)
    max_sources: Annotated[int, Ge(1)] = 100000
    poll_interval: Annotated[Duration, Gt(0)] = Duration(0.25)
    rotate_wait: Duration = Duration(5.0)

    def validate(self) -> list[tuple[str, str]]:
        if self.source == "file" and not self.path.startswith("/"):
            return [("path", f"expected an absolute path, got {self.path!r}")]
        return []


class AuthCounts:
    """Event counters fed by the follower; read by `collect()`."""

    def __init__(self, sources: FailureSources) -> None:
        self.events = {(s, e): 0 for s, events in EVENTS.items() for e in events}
        self.root_attempts = 0
        self.matched = 0
        self.ignored = 0
        self.sources = sources
        self._lock = threading.Lock()

    def consume(self, text: str) -> None:
        """Parse a chunk of lines and count what they say."""
        found = []
        lines = text.splitlines()
        for line in lines:
            ev = parse_line(line)
            if ev is not None:
                found.append(ev)
        with self._lock:
            for ev in found:
                self.events[(ev.service, ev.event)] += ev.count
                # Only authentication attempts (and a refused root login) carry a user: see _SSHD.
                if ev.user == "root":
                    self.root_attempts += ev.count
            self.matched += len(found)
            self.ignored += len(lines) - len(found)
        for ev in found:
            if ev.source is not None and ev.event in FAILURE_EVENTS:
                self.sources.add(ev.source)

    def snapshot(self) -> tuple[dict[tuple[str, str], int], int, int, int]:
        """Events, root attempts, matched and ignored line counts."""
        with self._lock:
            return dict(self.events), self.root_attempts, self.matched, self.ignored


@register
class AuthLogCollector(Collector):
    """sshd, sudo and su authentication events, without usernames or addresses."""

    name = NAME
    default_enabled = False
    description = "Authentication events (sshd, sudo, su) from the auth log or journald"
    Config = AuthLogConfig
    config: AuthLogConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self.counts = AuthCounts(
            FailureSources(float(self.config.failure_window), self.config.max_sources)
        )
        self.follower: FileFollower | JournalFollower
        if self.config.source == "journal":
            self.follower = JournalFollower(
                self.counts.consume,
                state_path(ctx.state_dir, NAME, "journal"),
                self.config.journal_matches,
                journalctl=self.config.journalctl,
                directory=self.config.journal_directory,
            )
        else:
            self.follower = FileFollower(
                self.paths.root(self.config.path),
                self.counts.consume,
                state_path(ctx.state_dir, NAME, self.config.path),
                start_at=self.config.start_at,
                poll_interval=float(self.config.poll_interval),
                rotate_wait=float(self.config.rotate_wait),
            )

    async def start(self) -> None:
        await self.follower.start()

    async def stop(self) -> None:
        await self.follower.stop()

    def collect(self) -> Iterable[Metric]:
        events, root, matched, ignored = self.counts.snapshot()
        fam = CounterMetricFamily(
            "tocsin_auth_events",
            "Authentication events by service and kind (no users or addresses).",
            labels=["service", "event"],
        )
        for (service, event), n in events.items():
            fam.add_metric([service, event], n)
        yield fam
        yield CounterMetricFamily(
            "tocsin_auth_root_login_attempts",
            "sshd authentication attempts as root: accepted, failed or refused.",
            value=root,
        )
        yield GaugeMetricFamily(
            "tocsin_auth_failure_sources",
            "Distinct source addresses with failed authentications in the sliding window.",
            value=self.counts.sources.count(),
        )
        lines = CounterMetricFamily(
            "tocsin_auth_log_lines",
            "Auth log lines read: matched an event, or ignored.",
            labels=["outcome"],
        )
        lines.add_metric(["matched"], matched)
        lines.add_metric(["ignored"], ignored)
        yield lines
        yield CounterMetricFamily(
            "tocsin_auth_log_read_errors",
            "Errors reading the auth log or journal.",
            value=self.follower.read_errors,
        )
        yield CounterMetricFamily(
            "tocsin_auth_log_state_write_errors",
            "Failed attempts to persist the read position (or journal cursor).",
            value=self.follower.state_write_errors,
        )
        follower = self.follower
        yield CounterMetricFamily(
            "tocsin_auth_log_long_lines",
            "Lines over 64 KiB cut before parsing, or journal entries over 1 MiB dropped.",
            value=(
                follower.long_lines if isinstance(follower, FileFollower) else follower.long_entries
            ),
        )
        if isinstance(self.follower, FileFollower):
            yield GaugeMetricFamily(
                "tocsin_auth_log_file_present",
                "1 when the auth log file exists and is open for reading; 0 while it is "
                "missing or cannot be opened (no events are counted meanwhile).",
                value=1.0 if self.follower.present else 0.0,
            )
