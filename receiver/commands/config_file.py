"""Reading the receiver's configuration, for every command that needs it, and printing
its problems."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from receiver.channels.options import ChannelSettings
from receiver.config import Config
from receiver.config_reader import embedded_defaults, read_config
from servicekit.problems import ConfigError, Problem


def load_config(path: str | Path) -> Config:
    """Read and validate a config file, channel options included; raises ConfigError
    with every problem."""
    return read_config(path, ChannelSettings())


def default_config() -> Config:
    """Embedded defaults: every alert to the `log` channel."""
    return embedded_defaults(ChannelSettings())


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
