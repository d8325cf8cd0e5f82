"""deploy/ checked by the real tools (promtool, amtool, systemd-analyze) and `make run`/`make
demo` (deploy/run_stack.py) started for real."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import require_binary
from tests.procs import free_port

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"

pytestmark = pytest.mark.integration


def run(*argv: str, cwd: Path = REPO, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_promtool_check_config_loads_the_rules() -> None:
    result = run(require_binary("promtool"), "check", "config", "deploy/prometheus/prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    rule_files = len(list((REPO / "rules").glob("*.rules.yml")))
    assert f"{rule_files} rule files found" in result.stdout


def test_amtool_check_config() -> None:
    result = run(require_binary("amtool"), "check-config", "deploy/alertmanager/alertmanager.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_amtool_rejects_a_broken_config(tmp_path: Path) -> None:
    text = (DEPLOY / "alertmanager" / "alertmanager.yml").read_text()
    broken = tmp_path / "am.yml"
    broken.write_text(text.replace("receiver: tocsin", "receiver: nobody"))
    result = run(require_binary("amtool"), "check-config", str(broken))
    assert result.returncode != 0


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    # The units name /usr/local/bin/...; verify against copies pointing at an executable.
    for unit in (DEPLOY / "systemd").glob("*.service"):
        text = unit.read_text().replace("/usr/local/bin/tocsin-exporter", "/bin/true")
        (tmp_path / unit.name).write_text(
            text.replace("/usr/local/bin/tocsin-receiver", "/bin/true")
        )
    units = sorted(str(p) for p in tmp_path.glob("*.service"))
    result = run(analyze, "verify", *units)
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and "tocsin" in line
    ]
    assert problems == [], problems


def stack_args(tmp_path: Path) -> list[str]:
    return [
        sys.executable,
        str(DEPLOY / "run_stack.py"),
        "--quiet",
        f"--data-dir={tmp_path / 'stack'}",
        f"--exporter-port={free_port()}",
        f"--receiver-port={free_port()}",
        f"--prometheus-port={free_port()}",
        f"--alertmanager-port={free_port()}",
    ]


def test_make_demo_delivers_a_notification_through_the_stack(tmp_path: Path) -> None:
    require_binary("prometheus")
    require_binary("alertmanager")
    result = run(*stack_args(tmp_path), "--demo", "--once", timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for name in ("exporter", "receiver", "alertmanager", "prometheus"):
        assert f"  {name}" in out
    assert "posted TocsinDemoAlert to Alertmanager" in out
    log = (tmp_path / "stack" / "receiver.log").read_text()
    notification = [line for line in log.splitlines() if '"event": "notification"' in line]
    assert notification and "TocsinDemoAlert" in notification[0]


def test_make_run_without_prometheus_says_so_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = dict(os.environ, PATH=str(Path(sys.executable).parent))  # no prometheus on PATH
    proc = subprocess.Popen(
        stack_args(tmp_path),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl-C" in line:
            break
    text = "".join(lines)
    assert "not started:  prometheus, prometheus-alertmanager" in text
    assert "exporter" in text and "receiver" in text, text
    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, text + rest
    assert "stopped." in rest
