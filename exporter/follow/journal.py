"""Follow the systemd journal through `journalctl -o json -f`.

A `JournalFollower` persists the cursor of the last entry it handed on, so a restart
resumes with `--after-cursor`. An entry over `max_entry_bytes` of JSON is dropped
(`long_entries` counts them) and a message is cut where the file follower cuts lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog

from exporter.follow.files import DEFAULT_MAX_LINE_BYTES
from exporter.follow.positions import STATE_VERSION, position_writer
from exporter.follow.sink import LineSink
from exporter.statefile import read_json

log = structlog.get_logger(__name__)


class JournalFollower:
    """Runs `journalctl -o json -f` and hands each entry on as a syslog-style line.

    Lines look like `IDENT[PID]: MESSAGE`, so parsers written for /var/log files work on
    both. The cursor of the last entry handed on is persisted; a restart passes it to
    `--after-cursor`, and a first start begins at the end of the journal (`-n 0`).
    """

    def __init__(
        self,
        sink: LineSink,
        state_file: Path | None,
        matches: Sequence[str] = (),
        *,
        journalctl: str = "journalctl",
        directory: str | None = None,
        restart_delay: float = 5.0,
        max_entry_bytes: int = 1 << 20,
    ) -> None:
        self.sink = sink
        self.state_file = state_file
        self.matches = list(matches)
        self.journalctl = journalctl
        self.directory = directory
        self.restart_delay = restart_delay
        self.cursor: str | None = None
        self.read_errors = 0
        # An entry's JSON is a few KiB; one larger than this is dropped, not held whole.
        self.max_entry_bytes = max_entry_bytes
        self.long_entries = 0
        self._state = position_writer(state_file)
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        if state_file is not None:
            saved = read_json(state_file)
            if saved and isinstance(saved.get("cursor"), str):
                self.cursor = saved["cursor"]

    def command(self) -> list[str]:
        """The journalctl command line for the current cursor."""
        cmd = [self.journalctl, "-o", "json", "-f", "--no-pager", "-q"]
        if self.directory:
            cmd += ["--directory", self.directory]
        cmd += ["--after-cursor", self.cursor] if self.cursor else ["-n", "0"]
        return cmd + self.matches

    async def start(self) -> None:
        """Start journalctl in the background (restarted with a delay if it exits)."""
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="follow:journal")

    async def stop(self) -> None:
        """Stop journalctl and persist the cursor."""
        self._stopping = True
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.terminate()
        if self._task is not None:
            await self._task
            self._task = None
        self._save()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._run_once()
            except OSError as exc:
                self.read_errors += 1
                log.error("journal_start_failed", command=self.journalctl, error=str(exc))
            if self._stopping:
                break
            await asyncio.sleep(self.restart_delay)

    async def _run_once(self) -> None:
        proc = await asyncio.create_subprocess_exec(
            *self.command(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        self._proc = proc
        assert proc.stdout is not None
        pending: list[bytes] = []
        held = 0
        skipping = False
        while True:
            chunk = await proc.stdout.read(1 << 16)
            if not chunk:
                break
            head, *lines = chunk.split(b"\n")
            if not lines:
                # Still inside one entry: held in pieces (no quadratic joining), up to a cap.
                if not skipping:
                    pending.append(head)
                    held += len(head)
                    if held > self.max_entry_bytes:
                        pending, held, skipping = [], 0, True
                        self.long_entries += 1
                continue
            complete = [] if skipping else [b"".join([*pending, head])]
            *rest, tail = lines
            pending, held, skipping = [tail], len(tail), False
            # Whatever is buffered becomes one batch: one cursor write per burst.
            self.feed([*complete, *rest])
        err = b""
        if proc.stderr is not None:
            err = await proc.stderr.read()
        code = await proc.wait()
        if not self._stopping:
            self.read_errors += 1
            log.error("journal_exited", code=code, stderr=err.decode(errors="replace")[-500:])

    def feed(self, raw_lines: Sequence[bytes]) -> None:
        """Convert journalctl JSON lines to text lines, hand them on and persist the cursor."""
        out: list[str] = []
        cursor = self.cursor
        for raw in raw_lines:
            try:
                entry = json.loads(raw)
            except ValueError:
                self.read_errors += 1
                continue
            if not isinstance(entry, dict):
                continue
            line = journal_line(entry)
            if line is not None:
                out.append(line)
            if isinstance(entry.get("__CURSOR"), str):
                cursor = entry["__CURSOR"]
        if out:
            self.sink("\n".join(out) + "\n")
        if cursor != self.cursor:
            self.cursor = cursor
            self._save()

    @property
    def state_write_errors(self) -> int:
        """Failed attempts to persist the cursor."""
        return self._state.errors

    def _save(self) -> None:
        if self.cursor is not None:
            self._state.write({"version": STATE_VERSION, "cursor": self.cursor})


def journal_line(entry: dict[str, Any]) -> str | None:
    """`IDENT[PID]: MESSAGE` for one journal entry (None when it has no message)."""
    message = _journal_text(entry.get("MESSAGE"))
    if message is None:
        return None
    ident = _journal_text(entry.get("SYSLOG_IDENTIFIER")) or _journal_text(entry.get("_COMM"))
    pid = _journal_text(entry.get("SYSLOG_PID")) or _journal_text(entry.get("_PID"))
    prefix = f"{ident}[{pid}]: " if ident and pid else f"{ident}: " if ident else ""
    # One entry is one line: embedded newlines would split it into several. It is cut
    # where the file follower cuts lines, so parsers see the same bound from both.
    return prefix + message[:DEFAULT_MAX_LINE_BYTES].replace("\n", " ")


def _journal_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(b, int) for b in value):
        # journalctl writes non-UTF-8 or binary fields as arrays of byte values.
        return bytes(value).decode("utf-8", "replace")
    return None
