"""Reading the receiver's configuration, for every command that needs it."""

from __future__ import annotations

import sys
from pathlib import Path

from receiver.channels.options import ChannelSettings
from receiver.config import Config
from receiver.config_reader import embedded_defaults, read_config
from servicekit.problems import ConfigError


def load_config(path: str | Path) -> Config:
    """Read and validate a config file, channel options included; raises ConfigError
    with every problem."""
    return read_config(path, ChannelSettings())


def default_config() -> Config:
    """Embedded defaults: every alert to the `log` channel."""
    return embedded_defaults(ChannelSettings())


def load_or_report(path: Path | None) -> Config | None:
    """The configuration in `path` (the defaults without one), or None after printing
    every problem to stderr."""
    try:
        return load_config(path) if path else default_config()
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None
