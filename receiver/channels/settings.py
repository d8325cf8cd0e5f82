"""Each channel section's own options, validated by its channel type's `Config`, and the
one function every command reads the receiver's configuration with.

The channel registry sits above `receiver.config`, so the config reader is handed the
channel types from here rather than importing them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from receiver.channels.base import Channel, channel_types
from receiver.config import Config
from receiver.config_reader import embedded_defaults, read_config
from servicekit.loader import Loader


class ChannelSettings:
    """The registered channel types' options, for the config reader."""

    def __init__(self) -> None:
        self._types: dict[str, type[Channel]] = channel_types()

    def types(self) -> list[str]:
        return sorted(self._types)

    def load(self, kind: str, options: dict[str, Any], key: str, loader: Loader) -> Any | None:
        return loader.load(self._types[kind].Config, options, key)


def load_config(path: str | Path) -> Config:
    """Read and validate a config file, channel options included; raises ConfigError
    with every problem."""
    return read_config(path, ChannelSettings())


def default_config() -> Config:
    """Embedded defaults: every alert to the `log` channel."""
    return embedded_defaults(ChannelSettings())
