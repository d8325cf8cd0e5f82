"""Logged-in sessions, counted as local or remote; never names, terminals or addresses.

The source is utmp (what `who` reads); hosts without utmp (newer systemd-only systems)
fall back to systemd-logind's session files under /run/systemd/sessions.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorUnavailable, register

# glibc's struct utmp on Linux (x86_64, aarch64, ...): 384 bytes.
UTMP_RECORD = struct.Struct("<hxxi32s4s32s256shhiii16s20s")
USER_PROCESS = 7
UTMP_PATHS = ("/run/utmp", "/var/run/utmp")
LOGIND_SESSIONS = "/run/systemd/sessions"


def utmp_session_hosts(data: bytes) -> Iterator[str]:
    """The ut_host field of every USER_PROCESS record ('' for a local session)."""
    size = UTMP_RECORD.size
    for offset in range(0, len(data) - size + 1, size):
        fields = UTMP_RECORD.unpack_from(data, offset)
        ut_type, pid, host = fields[0], fields[1], fields[5]
        if ut_type != USER_PROCESS or pid <= 0:
            continue
        yield host.split(b"\0", 1)[0].decode("utf-8", "replace")


def is_remote_host(host: str) -> bool:
    """A utmp host names a remote peer unless it is empty or a local X display (':0')."""
    return bool(host) and not host.startswith(":")


def logind_sessions(directory: Path) -> Iterator[bool]:
    """One `remote?` flag per user-class session in logind's runtime directory."""
    for entry in sorted(directory.iterdir()):
        if entry.name.endswith(".ref") or not entry.is_file():
            continue
        try:
            text = entry.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # the session ended between listing and reading
        values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        if values.get("CLASS", "user") != "user" or values.get("STATE") == "closing":
            continue
        yield values.get("REMOTE") == "1"


@register
class SessionsCollector(Collector):
    """Counts logged-in sessions by type, from utmp or logind."""

    name = "sessions"
    default_enabled = True
    description = "logged-in sessions (local / remote), from utmp or systemd-logind"

    def _counts(self) -> tuple[int, int]:
        for candidate in UTMP_PATHS:
            local_path = self.paths.root(candidate)
            try:
                data = local_path.read_bytes()
            except FileNotFoundError:
                continue
            local = remote = 0
            for host in utmp_session_hosts(data):
                if is_remote_host(host):
                    remote += 1
                else:
                    local += 1
            return local, remote
        sessions_dir = self.paths.root(LOGIND_SESSIONS)
        if os.path.isdir(sessions_dir):
            flags = list(logind_sessions(sessions_dir))
            return flags.count(False), flags.count(True)
        raise CollectorUnavailable("neither utmp nor /run/systemd/sessions exists")

    def collect(self) -> Iterable[Metric]:
        local, remote = self._counts()
        users = GaugeMetricFamily(
            "tocsin_logged_in_users",
            "Logged-in sessions by type (remote: from another host).",
            labels=["type"],
        )
        users.add_metric(["local"], float(local))
        users.add_metric(["remote"], float(remote))
        yield users
