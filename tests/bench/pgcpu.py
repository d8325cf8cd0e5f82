"""CPU used by a PostgreSQL server: its postmaster and every backend it forked.

Backends rename themselves (`postgres: tocsin t1 127.0.0.1(5432) idle`), so their command
lines do not name the data directory; they are found as the children of the postmaster,
whose pid is the first line of `postmaster.pid` in the data directory. A backend that
exits between two readings is not lost: once the postmaster reaps it, its CPU moves into
the postmaster's `cutime`/`cstime`, which are counted too.
"""

from __future__ import annotations

import os
from pathlib import Path


def _stat(pid: int) -> list[str]:
    # The command name in parentheses may contain spaces; the fields after it do not.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def postmaster_pid(data: Path) -> int:
    """The running server's postmaster pid, from `postmaster.pid` in its data directory."""
    return int((data / "postmaster.pid").read_text().splitlines()[0])


def server_cpu_seconds(data: Path) -> float:
    """User + system CPU seconds of the server in `data`: postmaster, live and reaped
    children."""
    master = postmaster_pid(data)
    fields = _stat(master)
    # utime, stime, cutime, cstime (fields 14-17 of proc(5); 0-based 11-14 after the name)
    ticks = sum(int(f) for f in fields[11:15])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            child = _stat(int(entry.name))
        except (FileNotFoundError, ProcessLookupError):
            continue  # exited since the listing; its CPU is in the postmaster's cutime
        if int(child[1]) == master:  # ppid is field 4 (0-based 1 after the name)
            ticks += int(child[11]) + int(child[12])
    return ticks / os.sysconf("SC_CLK_TCK")
