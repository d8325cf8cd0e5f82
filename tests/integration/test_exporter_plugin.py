"""The plugin API end to end: pip-install the example plugin package, then scrape it.

The package is installed into a temporary --target directory and put on PYTHONPATH of the
exporter subprocess, so the test never changes the virtualenv.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.metrics import scrape_series
from tests.procs import run_exporter, run_module

FAST = ["--collector.disable-defaults", "--collector.uname"]


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources.
    source = tmp_path_factory.mktemp("plugin-src") / "plugin_example"
    shutil.copytree(FIXTURES / "plugin_example", source)
    target = tmp_path_factory.mktemp("plugin-site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert (target / "tocsin_plugin_example").is_dir()
    return target


def exporter(plugin: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_module("exporter", *args, env={"PYTHONPATH": str(plugin), "PATH": "/usr/bin:/bin"})


def test_plugin_is_not_there_without_the_package() -> None:
    out = run_module("exporter", "--help")
    assert "--collector.example" not in out.stdout


def test_plugin_flag_exists(plugin_path: Path) -> None:
    out = exporter(plugin_path, "--help")
    assert out.returncode == 0, out.stderr
    assert "--collector.example, --no-collector.example" in out.stdout
    assert "an example plugin collector (default: enabled)" in out.stdout.replace("\n", " ")


def test_plugin_metrics_are_served_with_its_config(plugin_path: Path, tmp_path: Path) -> None:
    config = tmp_path / "exporter.yml"
    config.write_text("collectors:\n  example: {answer: 7, greeting: hi}\n")
    env = {"PYTHONPATH": str(plugin_path)}
    with run_exporter(
        [*FAST, "--collector.example", f"--config.file={config}"], tmp_path, env
    ) as proc:
        values = scrape_series(proc.port)
    assert values[("tocsin_example_answer", (("greeting", "hi"),))] == 7
    assert values[("tocsin_exporter_collector_success", (("collector", "example"),))] == 1


def test_plugin_config_is_validated(plugin_path: Path, tmp_path: Path) -> None:
    config = tmp_path / "exporter.yml"
    config.write_text("collectors:\n  example: {answer: -1, colour: blue}\n")
    out = exporter(plugin_path, "--check-config", f"--config.file={config}")
    assert out.returncode == 2
    assert f"{config}: collectors.example.colour: unknown key" in out.stderr
    config.write_text("collectors:\n  example: {answer: -1}\n")
    out = exporter(plugin_path, "--check-config", f"--config.file={config}")
    assert out.returncode == 2
    assert f"{config}: collectors.example.answer: expected a non-negative integer" in out.stderr


def test_plugin_can_be_disabled(plugin_path: Path, tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(plugin_path)}
    with run_exporter(["--collector.uname", "--no-collector.example"], tmp_path, env) as proc:
        values = scrape_series(proc.port)
    assert not any(name == "tocsin_example_answer" for name, _ in values)
    assert ("tocsin_exporter_collector_success", (("collector", "example"),)) not in values
