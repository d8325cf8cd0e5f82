"""`promtool check rules` and `promtool test rules` on every file in rules/."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_binary

RULES = Path(__file__).resolve().parents[2] / "rules"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_binary("promtool"), *args],
        cwd=RULES,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_rules() -> None:
    files = sorted(p.name for p in RULES.glob("*.rules.yml"))
    assert files
    result = promtool("check", "rules", *files)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("test_file", sorted(p.name for p in RULES.glob("*_test.yml")))
def test_rule_unit_tests(test_file: str) -> None:
    result = promtool("test", "rules", test_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_catches_a_wrong_expectation(tmp_path: Path) -> None:
    """Guard against a test runner that passes everything: a wrong annotation must fail."""
    original = (RULES / "host_test.yml").read_text()
    broken = original.replace("CPU on h1 is saturated.", "CPU on h1 is fine.")
    assert broken != original
    (tmp_path / "host.rules.yml").write_text((RULES / "host.rules.yml").read_text())
    (tmp_path / "host_test.yml").write_text(broken)
    result = subprocess.run(
        [require_binary("promtool"), "test", "rules", "host_test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "HostCpuSaturated" in result.stdout + result.stderr
