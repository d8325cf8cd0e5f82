"""`receiver.cli.command_modules`: which modules of `receiver/commands/` become subcommands."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from receiver import cli

_COMMAND_BODY = """
def add_parser(sub):
    return sub.add_parser("hello")


def run(args):
    return 0
"""


@pytest.fixture
def fake_commands(tmp_path: Path) -> Iterator[str]:
    """A commands package with one marked module and one helper that has the same functions."""
    package = tmp_path / "fake_commands_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "hello.py").write_text('COMMAND = "hello"\n' + _COMMAND_BODY)
    (package / "helper.py").write_text(_COMMAND_BODY)
    sys.path.insert(0, str(tmp_path))
    try:
        yield "fake_commands_pkg"
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.partition(".")[0] == "fake_commands_pkg"]:
            del sys.modules[name]


def test_a_module_without_the_marker_is_not_a_subcommand(fake_commands: str) -> None:
    package = importlib.import_module(fake_commands)
    found = [mod.__name__ for mod in cli.command_modules(package)]
    assert found == [f"{fake_commands}.hello"]


def test_the_shared_helpers_are_not_subcommands() -> None:
    names = {mod.__name__.rpartition(".")[2] for mod in cli.command_modules()}
    assert names.isdisjoint({"api_client", "config_file", "incident_action"})
    assert {"serve", "check_config", "ack"} <= names


def test_each_command_adds_the_parser_its_marker_names() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    for mod in cli.command_modules():
        before = set(sub.choices)
        mod.add_parser(sub)
        assert set(sub.choices) - before == {mod.COMMAND}, mod.__name__
