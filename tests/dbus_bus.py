"""A private D-Bus daemon (Debian's dbus-daemon) standing in for the host's system bus,
and the fake systemd (tests/fake_systemd.py) on it."""

from __future__ import annotations

import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import require_binary
from tests.procs import REPO, stop_process

# Anyone may own and call anything: the bus lives in the test's own directory.
_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""
_READY_TIMEOUT = 20.0


def _first_line(proc: subprocess.Popen[str], what: str) -> str:
    """The process's first output line, waited for at most _READY_TIMEOUT seconds."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], _READY_TIMEOUT)
    line = proc.stdout.readline().strip() if ready else ""
    if not line:
        raise RuntimeError(f"{what} printed nothing in {_READY_TIMEOUT:g}s (exit {proc.poll()})")
    return line


@contextmanager
def private_bus(tmp_path: Path) -> Iterator[str]:
    """Start a dbus-daemon listening in `tmp_path`; yields its address."""
    binary = require_binary("dbus-daemon")
    socket = tmp_path / "system_bus_socket"
    config = tmp_path / "bus.conf"
    config.write_text(_CONFIG.format(socket=socket))
    proc = subprocess.Popen(
        [binary, f"--config-file={config}", "--nofork", "--nopidfile", "--print-address"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        address = _first_line(proc, "dbus-daemon")
        assert address.startswith("unix:"), address
        yield address
    finally:
        stop_process(proc)  # type: ignore[arg-type]


@contextmanager
def fake_systemd(address: str) -> Iterator[None]:
    """Serve tests/fake_systemd.py's units as org.freedesktop.systemd1 on `address`."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_systemd", address],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = _first_line(proc, "fake systemd")
        if line != "ready":
            raise RuntimeError(f"fake systemd: {line}{proc.stdout.read() if proc.stdout else ''}")
        yield
    finally:
        stop_process(proc)  # type: ignore[arg-type]
