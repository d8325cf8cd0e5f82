"""Configuration loading for the commands that read it without serving."""

from __future__ import annotations

import sys
from pathlib import Path

from receiver.channels.settings import default_config, load_config
from receiver.config import Config
from servicekit.problems import ConfigError


def load_or_report(path: Path | None) -> Config | None:
    """The configuration in `path` (the defaults without one), or None after printing
    every problem to stderr."""
    try:
        return load_config(path) if path else default_config()
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None
