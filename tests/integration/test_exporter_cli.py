"""`tocsin-exporter` as a process: flags, config errors, TLS + basic auth, clean shutdown."""

from __future__ import annotations

import base64
import signal
import socket
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, self_signed_cert
from tests.procs import run_exporter, run_module

FAST = ["--collector.disable-defaults", "--collector.loadavg", "--collector.uname"]


def test_version() -> None:
    out = run_module("exporter", "--version")
    assert out.returncode == 0
    assert out.stdout.startswith("tocsin-exporter 0.")


def test_unknown_flag_exits_2_naming_it() -> None:
    out = run_module("exporter", "--collector.nosuch")
    assert out.returncode == 2
    assert "unrecognized arguments: --collector.nosuch" in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_config_exits_2_naming_file_and_every_key(tmp_path: Path) -> None:
    config = tmp_path / "exporter.yml"
    config.write_text(
        "global:\n  min_interval: often\ncollectors:\n  nosuch: {}\n  filesystem: {bogus: 1}\n"
    )
    out = run_module("exporter", f"--config.file={config}", "--web.listen-address=nowhere")
    assert out.returncode == 2
    assert f"{config}: global.min_interval: expected a duration" in out.stderr
    assert f"{config}: collectors.nosuch: unknown collector" in out.stderr
    assert f"{config}: collectors.filesystem.bogus: unknown key" in out.stderr
    assert "--web.listen-address: expected host:port" in out.stderr
    assert "Traceback" not in out.stderr


def test_check_config_reports_config_and_web_config_problems_at_once(tmp_path: Path) -> None:
    config = tmp_path / "exporter.yml"
    config.write_text("global:\n  collector_timeout: 0s\n")
    web = FIXTURES / "webconfig" / "invalid.yml"
    out = run_module(
        "exporter", "--check-config", f"--config.file={config}", f"--web.config.file={web}"
    )
    assert out.returncode == 2
    assert f"{config}: global.collector_timeout: expected a duration greater than 0" in out.stderr
    assert f"{web}: basic_auth_users.alice: expected a bcrypt hash" in out.stderr
    assert f"{web}: tls_server_config.min_version" in out.stderr


def test_check_config_accepts_a_good_config(tmp_path: Path) -> None:
    config = tmp_path / "exporter.yml"
    config.write_text(
        "global: {min_interval: 2s}\ncollectors:\n  uname: {timeout: 1s}\n  cpu: {enabled: false}\n"
    )
    out = run_module(
        "exporter", "--check-config", f"--config.file={config}", "--no-collector.loadavg"
    )
    assert out.returncode == 0, out.stderr
    listed = out.stdout.split("collectors enabled:")[1].splitlines()[0]
    enabled = {name.strip() for name in listed.split(",")}
    assert "uname" in enabled
    assert "cpu" not in enabled  # by name: cpufreq stays enabled
    assert "cpufreq" in enabled
    assert "loadavg" not in enabled


def test_sigterm_shuts_down_cleanly(tmp_path: Path) -> None:
    with run_exporter(FAST, tmp_path) as proc:
        with urllib.request.urlopen(f"http://127.0.0.1:{proc.port}/metrics", timeout=10) as r:
            assert r.status == 200
        proc.proc.send_signal(signal.SIGTERM)
        assert proc.proc.wait(timeout=15) == 0
        assert "event=shutting_down" in proc.log()
        assert "Traceback" not in proc.log()


def test_sigint_shuts_down_cleanly(tmp_path: Path) -> None:
    with run_exporter(FAST, tmp_path) as proc:
        proc.proc.send_signal(signal.SIGINT)
        assert proc.proc.wait(timeout=15) == 0
        assert "Traceback" not in proc.log()


def _get(url: str, context: ssl.SSLContext, auth: tuple[str, str] | None) -> int:
    request = urllib.request.Request(url)
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as r:
            assert b"node_load1 " in r.read()
            return int(r.status)
    except urllib.error.HTTPError as err:
        assert err.headers["WWW-Authenticate"].startswith("Basic realm=")
        return int(err.code)


def test_tls_and_basic_auth_from_web_config(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path)
    hashed = (FIXTURES / "webconfig" / "basic_auth.yml").read_text().split("prometheus: ")[1]
    web = tmp_path / "web.yml"
    web.write_text(
        f"tls_server_config:\n  cert_file: {cert.name}\n  key_file: {key.name}\n"
        f"basic_auth_users:\n  prometheus: {hashed}"
    )
    context = ssl.create_default_context(cafile=str(cert))
    with run_exporter([*FAST, f"--web.config.file={web}"], tmp_path) as proc:
        url = f"https://127.0.0.1:{proc.port}/metrics"
        assert _get(url, context, ("prometheus", "prom-password")) == 200
        assert _get(url, context, ("prometheus", "wrong")) == 401
        assert _get(url, context, None) == 401
        with pytest.raises(OSError):  # plain HTTP on the TLS port: the server hangs up
            urllib.request.urlopen(f"http://127.0.0.1:{proc.port}/metrics", timeout=10)
        untrusting = ssl.create_default_context()
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            urllib.request.urlopen(url, context=untrusting, timeout=10)
        assert "prom-password" not in proc.log()


def test_bad_idle_timeout_exits_2_naming_the_flag() -> None:
    out = run_module("exporter", "--web.idle-timeout=soon", "--check-config")
    assert out.returncode == 2
    assert "--web.idle-timeout" in out.stderr
    assert "Traceback" not in out.stderr


def test_idle_timeout_flag_cuts_a_silent_connection(tmp_path: Path) -> None:
    with run_exporter(["--web.idle-timeout=1s"], tmp_path) as exporter:
        sock = socket.create_connection(("127.0.0.1", exporter.port), timeout=10)
        with sock:
            sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            # The server closes the connection (recv returns b"") instead of waiting for ever;
            # the 10 s socket timeout only bounds a hang if it does not.
            assert sock.recv(1024) == b""
            assert time.monotonic() - started < 10
