"""Each channel section's own options, validated by its channel type's `Config`.

The channel registry sits above `receiver.config`, so the config reader is handed the
channel types through `ChannelSettings` (its `ChannelOptions`) rather than importing them.
"""

from __future__ import annotations

from typing import Any

from receiver.channels.base import Channel, channel_types
from servicekit.loader import Loader


class ChannelSettings:
    """The registered channel types' options, for the config reader
    (`receiver.config_reader.ChannelOptions`)."""

    def __init__(self) -> None:
        self._types: dict[str, type[Channel]] = channel_types()

    def types(self) -> list[str]:
        """The registered channel type names, sorted (what a section's `type` may be)."""
        return sorted(self._types)

    def load(self, kind: str, options: dict[str, Any], key: str, loader: Loader) -> Any | None:
        """One channel section's options validated by channel type `kind`'s `Config`, or
        None after recording their problems on `loader` under `key`."""
        return loader.load(self._types[kind].Config, options, key)
