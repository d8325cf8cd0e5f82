"""The one process harness: free ports, command lines, starting a server with its output in a
log file, waiting until it listens (or answers /-/ready), stopping it, and the exporter."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Straight to 127.0.0.1, whatever http_proxy says.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def exporter_args(port: int, *args: str) -> list[str]:
    """The command line of `python -m exporter` on 127.0.0.1:`port`."""
    return [sys.executable, "-m", "exporter", f"--web.listen-address=127.0.0.1:{port}", *args]


def node_exporter_args(binary: str, port: int, collectors: Iterable[str], *args: str) -> list[str]:
    """The command line of a node_exporter on 127.0.0.1:`port` with only `collectors`."""
    return [
        binary,
        f"--web.listen-address=127.0.0.1:{port}",
        "--collector.disable-defaults",
        *(f"--collector.{name}" for name in collectors),
        *args,
    ]


def prometheus_args(binary: str, config: Path, tsdb: Path, port: int) -> list[str]:
    """The command line of a Prometheus server on 127.0.0.1:`port`."""
    return [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={tsdb}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]


def start(
    args: list[str],
    log_path: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    append: bool = False,
) -> subprocess.Popen[bytes]:
    """Start `args` with stdout and stderr in `log_path` (appended to with `append`, so a
    restarted server keeps one log)."""
    with log_path.open("ab" if append else "wb") as log:
        return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=cwd, env=env)


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Poll until something accepts TCP connections on 127.0.0.1:port (or the process dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def wait_ready(
    proc: subprocess.Popen[bytes], url: str, log_path: Path, what: str, timeout: float = 30.0
) -> None:
    """Poll `url`/-/ready until it answers 200; fail with the log's tail if `proc` exits
    or `timeout` passes first. Blocking: async tests run it with asyncio.to_thread."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited: {log_path.read_text()[-3000:]}")
        try:
            with _DIRECT.open(url + "/-/ready", timeout=5) as r:
                if r.status == 200:
                    return
        except (OSError, http.client.HTTPException):
            pass  # not listening yet, or 503 while it starts
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what} ready: "
                f"{log_path.read_text()[-3000:]}"
            )
        time.sleep(0.05)


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> int:
    """SIGTERM, then wait; returns the exit code.

    A process still running after `timeout` is killed and TimeoutExpired raised, so a
    server that ignores SIGTERM fails the test instead of hanging it.
    """
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def kill_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGKILL (a crash, as far as the process can tell), then wait."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout)


@contextmanager
def running(
    args: list[str],
    log_path: Path,
    port: int | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `args` with stdout and stderr in `log_path`; stop it (SIGTERM) afterwards.

    With `port`, first wait until it listens on 127.0.0.1:`port`; if it never does, the
    error carries the log.
    """
    proc = start(args, log_path, cwd=cwd, env=env)
    try:
        if port is not None:
            try:
                wait_for_port(port, proc)
            except RuntimeError as exc:
                raise RuntimeError(f"{exc}\n{log_path.read_text(errors='replace')}") from exc
        yield proc
    finally:
        stop_process(proc)


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
    command = exporter_args(port, "--log.format=logfmt", *args)
    env = {**os.environ, **(env or {})}
    with running(command, log_path, port=port, cwd=REPO, env=env) as proc:
        yield ExporterProcess(proc, port, log_path)


def run_module(
    module: str,
    *args: str,
    cwd: Path = REPO,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """`python -m module args...` to completion, output captured as text; never raises on
    a non-zero exit (tests assert on it)."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
