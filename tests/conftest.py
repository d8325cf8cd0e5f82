"""Shared fixtures: real binaries (skipped when missing, a failure under CI=true), free ports,
and a running exporter subprocess."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.certs import write_localhost_cert
from tests.procs import REPO as REPO  # tests import it from here
from tests.procs import running, stop_process

FIXTURES = REPO / "tests" / "fixtures"
# The node_exporter collectors tocsin reimplements, by node_exporter's names.
SYSTEM_COLLECTORS = (
    "cpu",
    "meminfo",
    "loadavg",
    "filesystem",
    "diskstats",
    "netdev",
    "stat",
    "uname",
    "os",
    "time",
    "filefd",
    "vmstat",
    "pressure",
)

# Debian installs some binaries under names of its own.
_ALIASES = {
    "node_exporter": ["prometheus-node-exporter", "node_exporter"],
    "alertmanager": ["prometheus-alertmanager", "alertmanager"],
    "prometheus": ["prometheus"],
    "promtool": ["promtool"],
    "amtool": ["amtool"],
    "mtail": ["mtail"],
}
_PACKAGES = {
    "node_exporter": "prometheus-node-exporter",
    "alertmanager": "prometheus-alertmanager",
    "amtool": "prometheus-alertmanager",
    "promtool": "prometheus",
}


# The Accept header Prometheus 2.42 sends on every scrape (OpenMetrics preferred).
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)


def in_ci() -> bool:
    """CI=true turns a missing binary from a skip into a failure."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def find_binary(name: str) -> str | None:
    """Path of a binary by its upstream name, trying Debian's names too."""
    for candidate in _ALIASES.get(name, [name]):
        path = shutil.which(candidate) or shutil.which(candidate, path="/usr/bin:/usr/sbin")
        if path:
            return path
    return None


def require_binary(name: str) -> str:
    """Return the binary's path; skip (or fail under CI) when it is not installed."""
    path = find_binary(name)
    if path is None:
        message = f"{name} is not installed (apt-get install {_PACKAGES.get(name, name)})"
        if in_ci():
            pytest.fail(message + " — required in CI")
        pytest.skip(message)
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def port() -> int:
    return free_port()


class ExporterProcess:
    """A `python -m exporter` subprocess listening on 127.0.0.1:`port`."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.proc = proc
        self.port = port
        self.log_path = log_path

    def log(self) -> str:
        """Everything the exporter wrote so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then wait; returns the exit code."""
        return stop_process(self.proc, timeout)


@contextmanager
def run_exporter(
    args: list[str], tmp_path: Path, env: dict[str, str] | None = None
) -> Iterator[ExporterProcess]:
    """Start the exporter on a free port with `args`; stop it (SIGTERM) afterwards."""
    port = free_port()
    log_path = tmp_path / f"exporter-{port}.log"
    command = [
        sys.executable,
        "-m",
        "exporter",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.format=logfmt",
        *args,
    ]
    env = {**os.environ, **(env or {})}
    with running(command, log_path, port=port, cwd=REPO, env=env) as proc:
        yield ExporterProcess(proc, port, log_path)


def self_signed_cert(directory: Path, name: str = "localhost") -> tuple[Path, Path]:
    """Write a self-signed certificate for localhost/127.0.0.1 and its key; (cert, key)."""
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    write_localhost_cert(cert_path, key_path, name)
    return cert_path, key_path
