"""`serve` runs exactly the checks `check-config` runs and refuses to start on any problem,
printing every one; exit codes are the same across subcommands."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.procs import REPO, free_port, run_module

pytestmark = pytest.mark.integration

CONFIG_PROBLEM, USAGE, REFUSED = 3, 2, 4


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_module(
        "receiver", *args, cwd=cwd, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    )


def serve(config: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return cli(
        "serve",
        "--config.file",
        str(config),
        "--storage.path",
        str(tmp / "data"),
        "--web.listen-address",
        f"127.0.0.1:{free_port()}",
        *extra,
        cwd=tmp,
    )


def with_templates(tmp: Path, templates: str) -> Path:
    """Two templated channels (Slack and Teams, never contacted) and `templates_dir`."""
    path = tmp / "receiver.yml"
    path.write_text(
        "channels:\n"
        "  - {name: chat, type: slack, webhook_url: 'http://127.0.0.1:9/services/x'}\n"
        "  - {name: team, type: teams, webhook_url: 'http://127.0.0.1:9/workflows/x'}\n"
        "default_route: {channels: [chat, team]}\n"
        f"templates_dir: {templates}\n"
    )
    return path


def problems(stderr: str, prefix: str = "") -> list[str]:
    return sorted(
        line.removeprefix(prefix) for line in stderr.splitlines() if line.startswith(prefix)
    )


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"slack/default.text.txt": "{% if %}oops"},
            ["channels.chat: template slack/default.text.txt: syntax error"],
        ),
        (
            {"teams/default.title.txt": "{{ alertnmae }}"},
            ["channels.team: template teams/default.title.txt", "'alertnmae' is undefined"],
        ),
        (
            # Both at once: every problem is printed, not just the first.
            {"slack/default.text.txt": "{% if %}", "teams/firing.text.txt": "{{ nope.x }}"},
            ["slack/default.text.txt: syntax error", "'nope' is undefined"],
        ),
        (None, ["templates_dir: not a directory"]),
    ],
    ids=["syntax-error", "undefined-variable", "both", "missing-templates-dir"],
)
def test_serve_refuses_what_check_config_reports(
    tmp_path: Path, files: dict[str, str] | None, expected: list[str]
) -> None:
    templates = tmp_path / "templates"
    for name, text in (files or {}).items():
        (templates / name).parent.mkdir(parents=True, exist_ok=True)
        (templates / name).write_text(text)
    config = with_templates(tmp_path, str(templates))
    checked = cli("check-config", str(config), cwd=tmp_path)
    served = serve(config, tmp_path)
    assert checked.returncode == CONFIG_PROBLEM, checked.stderr
    assert served.returncode == CONFIG_PROBLEM, served.stderr
    for text in expected:
        assert text in checked.stderr, checked.stderr
    # The same problems, word for word (serve prefixes each with "config error: ").
    found = problems(checked.stderr, str(config))
    assert found and found == problems(served.stderr, f"config error: {config}")
    assert "Traceback" not in served.stderr
    assert not (tmp_path / "data").exists(), "serve opened the store before refusing"


def test_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "good.yml"
    good.write_text("default_route: {channels: [log]}\n")
    assert cli("check-config", str(good), cwd=tmp_path).returncode == 0
    assert cli("check-config", cwd=tmp_path).returncode == USAGE
    assert cli("serve", "--no-such-flag", cwd=tmp_path).returncode == USAGE
    bad_listen = serve(good, tmp_path, "--web.listen-address", "nowhere")
    assert bad_listen.returncode == USAGE and "--web.listen-address" in bad_listen.stderr
    insecure = serve(good, tmp_path, "--web.listen-address", f"0.0.0.0:{free_port()}")
    assert insecure.returncode == REFUSED and "--web.insecure" in insecure.stderr
    missing = cli(
        "render", "--channel", "log", "--config.file", str(tmp_path / "none.yml"), cwd=tmp_path
    )
    assert missing.returncode == CONFIG_PROBLEM, missing.stderr
