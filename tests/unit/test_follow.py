"""FileFollower: every rotation style loses no line and repeats none (exact counts)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from exporter.follow.files import FileFollower
from exporter.follow.journal import JournalFollower, journal_line


class Sink:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, text: str) -> None:
        assert text.endswith("\n"), "a sink only ever gets whole lines"
        self.lines.extend(text.splitlines())


def write(path: Path, *lines: str) -> None:
    with path.open("a") as f:
        f.write("".join(f"{line}\n" for line in lines))


def numbered(prefix: str, n: int) -> list[str]:
    return [f"{prefix}-{i}" for i in range(n)]


def follower(path: Path, sink: Sink, state: Path | None = None, **kw: object) -> FileFollower:
    kw.setdefault("start_at", "beginning")
    kw.setdefault("rotate_wait", 0.0)
    return FileFollower(path, sink, state, **kw)  # type: ignore[arg-type]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "logs" / "app.log"


def test_partial_line_waits_for_newline(log: Path) -> None:
    log.parent.mkdir()
    sink = Sink()
    f = follower(log, sink)
    log.write_text("one\ntw")
    f.poll()
    assert sink.lines == ["one"]
    with log.open("a") as fh:
        fh.write("o\nthr")
    f.poll()
    assert sink.lines == ["one", "two"]
    assert f.offset == len("one\ntwo\n")


def test_rename_rotation_drains_old_file_first(log: Path) -> None:
    log.parent.mkdir()
    sink = Sink()
    f = follower(log, sink, rotate_wait=60.0)
    write(log, *numbered("a", 5))
    f.poll()
    with log.open("a") as writer:  # a writer that has not reopened yet
        writer.write("a-5\n")
        log.rename(log.with_suffix(".log.1"))
        writer.write("a-6\n")
        write(log, *numbered("b", 3))
        f.poll()
        writer.write("a-7\n")  # still appending to the rotated file
    f.poll()
    assert sorted(sink.lines) == sorted([*numbered("a", 8), *numbered("b", 3)])
    assert f.rotations == 1


def test_copytruncate(log: Path) -> None:
    log.parent.mkdir()
    sink = Sink()
    f = follower(log, sink)
    write(log, *numbered("a", 10))
    f.poll()
    shutil.copy(log, log.with_suffix(".log.1"))
    os.truncate(log, 0)
    write(log, *numbered("b", 3))
    f.poll()
    assert sink.lines == [*numbered("a", 10), *numbered("b", 3)]
    assert f.truncations == 1


def test_truncate_and_regrow_past_offset_is_noticed(log: Path) -> None:
    log.parent.mkdir()
    sink = Sink()
    f = follower(log, sink)
    write(log, *numbered("a", 3))
    f.poll()
    os.truncate(log, 0)
    write(log, *numbered("longer-line-b", 10))  # now bigger than the old offset
    f.poll()
    assert sink.lines == [*numbered("a", 3), *numbered("longer-line-b", 10)]


def test_absent_at_start_then_created_is_read_from_start(log: Path) -> None:
    sink = Sink()
    f = follower(log, sink, start_at="end")
    f.poll()
    log.parent.mkdir()
    write(log, *numbered("a", 4))
    f.poll()
    assert sink.lines == numbered("a", 4)


def test_start_at_end_skips_history_but_not_the_partial_line(log: Path) -> None:
    log.parent.mkdir()
    log.write_text("old-1\nold-2\nhalf")
    sink = Sink()
    f = follower(log, sink, start_at="end")
    f.poll()
    with log.open("a") as fh:
        fh.write("-done\nnew\n")
    f.poll()
    assert sink.lines == ["half-done", "new"]


def test_deleted_and_recreated(log: Path) -> None:
    log.parent.mkdir()
    sink = Sink()
    f = follower(log, sink)
    write(log, *numbered("a", 3))
    f.poll()
    write(log, "a-3")
    log.unlink()
    f.poll()
    write(log, *numbered("b", 2))
    f.poll()
    assert sink.lines == [*numbered("a", 4), *numbered("b", 2)]


def test_directory_moved(log: Path) -> None:
    log.parent.mkdir()
    sink = Sink()
    f = follower(log, sink)
    write(log, *numbered("a", 3))
    f.poll()
    moved = log.parent.with_name("logs.old")
    log.parent.rename(moved)
    write(moved / log.name, "a-3")
    f.poll()
    log.parent.mkdir()
    write(log, *numbered("b", 2))
    f.poll()
    f.poll()
    assert sink.lines == [*numbered("a", 4), *numbered("b", 2)]


def test_restart_resumes_exactly(log: Path, tmp_path: Path) -> None:
    log.parent.mkdir()
    state = tmp_path / "state" / "pos.json"
    first = Sink()
    f = follower(log, first, state)
    write(log, *numbered("a", 5))
    log.open("a").write("partial")
    f.poll()
    f.close()
    with log.open("a") as fh:
        fh.write("-end\n")
    write(log, *numbered("b", 2))
    second = Sink()
    g = follower(log, second, state, start_at="end")
    g.poll()
    assert first.lines == numbered("a", 5)
    assert second.lines == ["partial-end", *numbered("b", 2)]
    assert not [p for p in state.parent.iterdir() if p.name.endswith(".tmp")]


def test_restart_after_rotation_while_down_reads_the_rotated_tail(
    log: Path, tmp_path: Path
) -> None:
    log.parent.mkdir()
    state = tmp_path / "pos.json"
    f = follower(log, Sink(), state)
    write(log, *numbered("a", 5))
    f.poll()
    f.close()
    write(log, *numbered("a-late", 2))
    log.rename(log.with_suffix(".log.1"))
    write(log, *numbered("b", 3))
    sink = Sink()
    g = follower(log, sink, state)
    g.poll()
    assert sorted(sink.lines) == sorted([*numbered("a-late", 2), *numbered("b", 3)])


def test_restart_after_copytruncate_while_down(log: Path, tmp_path: Path) -> None:
    log.parent.mkdir()
    state = tmp_path / "pos.json"
    f = follower(log, Sink(), state)
    write(log, *numbered("a", 5))
    f.poll()
    f.close()
    os.truncate(log, 0)
    write(log, *numbered("b", 2))
    sink = Sink()
    g = follower(log, sink, state)
    g.poll()
    assert sink.lines == numbered("b", 2)


def test_restart_with_replaced_file_of_same_size_is_read_from_start(
    log: Path, tmp_path: Path
) -> None:
    log.parent.mkdir()
    state = tmp_path / "pos.json"
    f = follower(log, Sink(), state)
    write(log, "x" * 20, "y" * 20)
    f.poll()
    f.close()
    with log.open("r+") as fh:  # same inode, same size, different first line
        fh.write("z" * 20 + "\n" + "w" * 20 + "\n")
    sink = Sink()
    follower(log, sink, state).poll()
    assert sink.lines == ["z" * 20, "w" * 20]


def test_overlong_line_is_cut_and_its_rest_skipped(log: Path) -> None:
    log.parent.mkdir()
    log.write_text("x" * 5000)
    sink = Sink()
    f = follower(log, sink, max_line_bytes=1024, chunk_bytes=1024)
    f.poll()
    assert sink.lines == ["x" * 1024]
    with log.open("a") as fh:
        fh.write("x" * 3000 + "\nok\n")
    f.poll()
    assert sink.lines == ["x" * 1024, "ok"]
    assert f.long_lines == 1


def test_overlong_line_between_short_ones_is_cut(log: Path) -> None:
    log.parent.mkdir()
    write(log, "a", "y" * 3000, "b")
    sink = Sink()
    f = follower(log, sink, max_line_bytes=1024, chunk_bytes=1 << 20)
    f.poll()
    assert sink.lines == ["a", "y" * 1024, "b"]
    assert f.long_lines == 1


async def test_background_follow_and_stop_persists(log: Path, tmp_path: Path) -> None:
    import asyncio

    log.parent.mkdir()
    state = tmp_path / "pos.json"
    sink = Sink()
    f = follower(log, sink, state, poll_interval=0.01)
    await f.start()
    write(log, *numbered("a", 3))
    for _ in range(500):
        if len(sink.lines) == 3:
            break
        await asyncio.sleep(0.01)
    await f.stop()
    assert sink.lines == numbered("a", 3)
    assert json.loads(state.read_text())["offset"] == log.stat().st_size


def test_journal_line_formats() -> None:
    entry = {"SYSLOG_IDENTIFIER": "sshd", "_PID": "42", "MESSAGE": "Accepted x\nmore"}
    assert journal_line(entry) == "sshd[42]: Accepted x more"
    assert journal_line({"SYSLOG_IDENTIFIER": "sudo", "MESSAGE": [104, 105]}) == "sudo: hi"
    assert journal_line({"SYSLOG_IDENTIFIER": "sudo"}) is None


def test_journal_feed_persists_cursor_and_resumes(tmp_path: Path) -> None:
    state = tmp_path / "journal.json"
    sink = Sink()
    j = JournalFollower(sink, state, ["SYSLOG_FACILITY=4"])
    assert j.command()[-3:] == ["-n", "0", "SYSLOG_FACILITY=4"]
    j.feed(
        [
            json.dumps({"__CURSOR": "s=1;i=1", "SYSLOG_IDENTIFIER": "su", "MESSAGE": "a"}).encode(),
            b"not json",
            json.dumps({"__CURSOR": "s=1;i=2", "SYSLOG_IDENTIFIER": "su", "MESSAGE": "b"}).encode(),
        ]
    )
    assert sink.lines == ["su: a", "su: b"]
    assert j.read_errors == 1
    again = JournalFollower(Sink(), state, ["SYSLOG_FACILITY=4"])
    assert again.command()[-3:] == ["--after-cursor", "s=1;i=2", "SYSLOG_FACILITY=4"]


async def test_journalctl_failure_is_reported_and_retried(tmp_path: Path) -> None:
    import asyncio

    from tests.conftest import require_binary

    binary = require_binary("journalctl")
    empty = tmp_path / "journal"
    empty.mkdir()
    j = JournalFollower(Sink(), tmp_path / "j.json", journalctl=binary, directory=str(empty))
    j.restart_delay = 0.05
    await j.start()
    for _ in range(200):
        if j.read_errors >= 2:
            break
        await asyncio.sleep(0.05)
    await j.stop()
    # The real journalctl finds no journal here and exits; we log it and start it again.
    assert j.read_errors >= 2


async def test_oversized_journal_entry_is_dropped_not_held(tmp_path: Path) -> None:
    import asyncio
    import sys

    # A stand-in for journalctl (an external program): two entries around a 3 MiB one.
    script = tmp_path / "journalctl"
    entry = '{"SYSLOG_IDENTIFIER": "su", "MESSAGE": "%s", "__CURSOR": "c%d"}'
    script.write_text(
        f"#!{sys.executable}\nimport sys, time\nw = sys.stdout.write\n"
        f"w({entry % ('a', 1)!r} + '\\n')\n"
        f"w({entry % ('x' * (3 << 20), 2)!r} + '\\n')\n"
        f"w({entry % ('b', 3)!r} + '\\n')\nsys.stdout.flush()\ntime.sleep(60)\n"
    )
    script.chmod(0o755)
    sink = Sink()
    j = JournalFollower(sink, None, journalctl=str(script), max_entry_bytes=1 << 20)
    await j.start()
    for _ in range(400):
        if j.cursor == "c3":
            break
        await asyncio.sleep(0.05)
    await j.stop()
    assert sink.lines == ["su: a", "su: b"]
    assert j.long_entries == 1


def events(logs: Sequence[Mapping[str, Any]], name: str) -> list[Mapping[str, Any]]:
    return [e for e in logs if e["event"] == name]


def test_missing_file_is_reported_once_and_its_appearance_too(log: Path) -> None:
    from structlog.testing import capture_logs

    log.parent.mkdir()
    sink = Sink()
    f = follower(log, sink)
    with capture_logs() as logs:
        for _ in range(3):
            f.poll()
        assert not f.present
        write(log, "first")
        f.poll()
        f.poll()
    assert f.present
    assert sink.lines == ["first"]
    missing = events(logs, "follow_file_missing")
    assert len(missing) == 1 and missing[0]["log_level"] == "warning"
    assert missing[0]["path"] == str(log)
    assert len(events(logs, "follow_file_available")) == 1
    # Missing is not an error: the file may simply not have been created yet.
    assert f.read_errors == 0


def test_unopenable_path_is_reported_once_and_counted_every_try(log: Path) -> None:
    from structlog.testing import capture_logs

    log.mkdir(parents=True)
    f = follower(log, Sink())
    with capture_logs() as logs:
        for _ in range(4):
            f.poll()
    assert not f.present
    assert f.read_errors == 4
    [unreadable] = events(logs, "follow_file_unreadable")
    assert unreadable["error"] == "unreadable: not a regular file but a directory"
    assert not events(logs, "follow_read_failed")


@pytest.mark.timeout(30)
def test_fifo_or_device_is_never_opened(log: Path) -> None:
    from structlog.testing import capture_logs

    log.parent.mkdir()
    os.mkfifo(log)  # opening it for reading would block until a writer came
    sink = Sink()
    f = follower(log, sink)
    with capture_logs() as logs:
        for _ in range(3):
            f.poll()
        log.unlink()
        log.symlink_to("/dev/zero")  # reading it would never end
        f.poll()
    assert not f.present and sink.lines == []
    reported = [e["error"] for e in events(logs, "follow_file_unreadable")]
    assert reported == [
        "unreadable: not a regular file but a fifo",
        "unreadable: not a regular file but a character device",
    ]


def test_rename_rotation_is_not_reported_missing_within_rotate_wait(log: Path) -> None:
    from structlog.testing import capture_logs

    log.parent.mkdir()
    sink = Sink()
    f = follower(log, sink, rotate_wait=3600.0)
    write(log, "a")
    f.poll()
    with capture_logs() as logs:
        log.rename(log.with_suffix(".1"))
        f.poll()
        assert f.present
        write(log, "b")
        f.poll()
    assert sink.lines == ["a", "b"]
    assert logs == [e for e in logs if e["event"] == "follow_rotated"]


def test_path_gone_after_rotate_wait_is_missing(log: Path) -> None:
    from structlog.testing import capture_logs

    log.parent.mkdir()
    f = follower(log, Sink(), rotate_wait=0.0)
    write(log, "a")
    f.poll()
    with capture_logs() as logs:
        log.unlink()
        f.poll()
        f.poll()
    assert not f.present
    assert len(events(logs, "follow_file_missing")) == 1


def test_state_write_failure_is_counted_and_logged_once_per_outage(
    log: Path, tmp_path: Path
) -> None:
    from structlog.testing import capture_logs

    log.parent.mkdir()
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state directory should be")
    sink = Sink()
    f = follower(log, sink, blocker / "follow" / "pos.json")
    with capture_logs() as logs:
        for i in range(3):
            write(log, f"line-{i}")
            f.poll()
        assert f.state_write_errors == 3
        blocker.unlink()
        write(log, "line-3")
        f.poll()
        write(log, "line-4")
        f.poll()
    assert f.state_write_errors == 3
    assert len(sink.lines) == 5
    [failed] = events(logs, "follow_state_write_failed")
    assert failed["log_level"] == "error"
    assert len(events(logs, "follow_state_write_recovered")) == 1
    assert json.loads((blocker / "follow" / "pos.json").read_text())["offset"] == log.stat().st_size


def test_journal_state_write_failure_is_counted(tmp_path: Path) -> None:
    from structlog.testing import capture_logs

    blocker = tmp_path / "state"
    blocker.write_text("")
    j = JournalFollower(Sink(), blocker / "j.json")
    with capture_logs() as logs:
        for i in range(2):
            j.feed([json.dumps({"__CURSOR": f"c{i}", "MESSAGE": "m"}).encode()])
    assert j.state_write_errors == 2
    assert len(events(logs, "follow_state_write_failed")) == 1
