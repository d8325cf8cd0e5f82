"""Reading the receiver's configuration, for every command that needs it, and printing
its problems."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from receiver.commands import exit_codes
from receiver.config import Config
from receiver.service.config_check import check_config, default_config, load_config
from servicekit.problems import ConfigError, Problem

__all__ = [
    "add_backend_config_argument",
    "check_or_report",
    "default_config",
    "load_config",
    "load_or_report",
    "print_problems",
    "sqlite_only",
]


def print_problems(problems: Sequence[Problem], prefix: str = "") -> None:
    """Print configuration problems to stderr, one a line, each after `prefix`."""
    for problem in problems:
        print(f"{prefix}{problem}", file=sys.stderr)


def load_or_report(path: Path | None, prefix: str = "") -> Config | None:
    """The configuration in `path` (the defaults without one), or None after printing
    every problem to stderr (see `print_problems`)."""
    try:
        return load_config(path) if path else default_config()
    except ConfigError as exc:
        print_problems(exc.problems, prefix)
        return None


def check_or_report(path: Path | None, prefix: str = "") -> Config | None:
    """`check_config(path)` (every check `check-config` runs, templates included), or
    None after printing every problem and their count to stderr."""
    try:
        return check_config(path)
    except ConfigError as exc:
        print_problems(exc.problems, prefix)
        print(f"{len(exc.problems)} problem(s) found", file=sys.stderr)
        return None


def sqlite_only(path: Path | None, advice: str) -> int | None:
    """For a command that works on the SQLite file (backup, restore): the exit code to stop
    with when `path` has problems or configures PostgreSQL (after printing `advice`), else
    None. Without a `--config.file` the backend is the default, SQLite."""
    if path is None:
        return None
    cfg = load_or_report(path)
    if cfg is None:
        return exit_codes.CONFIG_PROBLEM
    if cfg.storage.backend == "postgres":
        print(advice, file=sys.stderr)
        return exit_codes.REFUSED
    return None


def add_backend_config_argument(p: argparse.ArgumentParser) -> None:
    """`--config.file` for a command that only needs the configuration to tell its
    storage backend (what `sqlite_only` reads)."""
    p.add_argument(
        "--config.file",
        dest="config_file",
        type=Path,
        default=None,
        help="the receiver's configuration, to tell its storage backend (default: SQLite)",
    )
