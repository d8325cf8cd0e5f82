"""The one configuration check: what `check-config` reports, what `serve` refuses to start
on and what a reload refuses to apply are the same problems, found by `check_config`."""

from __future__ import annotations

from pathlib import Path

from receiver.channels.options import ChannelSettings
from receiver.config import Config
from receiver.config_reader import embedded_defaults, read_config
from receiver.templates.check import check_templates
from servicekit.problems import ConfigError


def load_config(path: str | Path) -> Config:
    """Read and validate a config file, channel options included; raises ConfigError
    with every problem. Templates are not rendered (see `check_config`)."""
    return read_config(path, ChannelSettings())


def default_config() -> Config:
    """Embedded defaults: every alert to the `log` channel."""
    return embedded_defaults(ChannelSettings())


def check_config(path: Path | None) -> Config:
    """The configuration in `path` (the embedded defaults without one) once every check
    passes: the file's keys, values and cross-references, then every configured channel's
    templates rendered strictly (syntax, undefined variables, `templates_dir`). Raises
    ConfigError with every problem found. Blocking (reads files, compiles templates)."""
    config = load_config(path) if path else default_config()
    problems = check_templates(config)
    if problems:
        raise ConfigError(problems)
    return config
