"""Sessions collector: utmp records built here in glibc's layout, and logind session files."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from exporter.collector import CollectorContext, CollectorUnavailable, HostPaths
from exporter.collectors.sessions import UTMP_RECORD, SessionsCollector

BOOT_TIME, INIT_PROCESS, LOGIN_PROCESS, USER_PROCESS, DEAD_PROCESS = 2, 5, 6, 7, 8


def record(ut_type: int, pid: int, line: str, user: str, host: str) -> bytes:
    return UTMP_RECORD.pack(
        ut_type,
        pid,
        line.encode(),
        line[-4:].encode(),
        user.encode(),
        host.encode(),
        0,
        0,
        0,
        1_700_000_000,
        0,
        b"\0" * 16,
        b"\0" * 20,
    )


def counts(root: Path) -> dict[str, float]:
    c = SessionsCollector(CollectorContext(paths=HostPaths(rootfs=root)))
    (family,) = list(c.collect())
    return {s.labels["type"]: s.value for s in family.samples}


def test_record_is_glibc_size() -> None:
    assert UTMP_RECORD.size == 384
    assert struct.calcsize("<hxxi32s4s32s256shhiii16s20s") == 384


def test_utmp_local_and_remote(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "utmp").write_bytes(
        record(BOOT_TIME, 0, "~", "reboot", "6.1.0")
        + record(LOGIN_PROCESS, 500, "tty2", "LOGIN", "")
        + record(USER_PROCESS, 501, "tty1", "alice", "")
        + record(USER_PROCESS, 502, "pts/0", "bob", "203.0.113.9")
        + record(USER_PROCESS, 503, "pts/1", "carol", "host.example.org")
        + record(USER_PROCESS, 504, "pts/2", "dave", ":0")
        + record(DEAD_PROCESS, 505, "pts/3", "", "198.51.100.1")
    )
    assert counts(tmp_path) == {"local": 2.0, "remote": 2.0}


def test_logind_fallback(tmp_path: Path) -> None:
    sessions = tmp_path / "run" / "systemd" / "sessions"
    sessions.mkdir(parents=True)
    (sessions / "1").write_text("UID=1000\nUSER=alice\nCLASS=user\nREMOTE=0\nSTATE=active\n")
    (sessions / "2").write_text("UID=1001\nUSER=bob\nCLASS=user\nREMOTE=1\nSTATE=online\n")
    (sessions / "3").write_text("UID=0\nCLASS=greeter\nREMOTE=0\n")
    (sessions / "4").write_text("UID=1002\nCLASS=user\nREMOTE=1\nSTATE=closing\n")
    (sessions / "2.ref").write_text("")
    assert counts(tmp_path) == {"local": 1.0, "remote": 1.0}


def test_no_source_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(CollectorUnavailable):
        counts(tmp_path)
