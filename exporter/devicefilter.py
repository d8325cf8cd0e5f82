"""node_exporter's include/exclude filter on device names (disks, network interfaces)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceFilter:
    """An include pattern wins over exclude; an empty pattern means 'not set'."""

    include: re.Pattern[str] | None
    exclude: re.Pattern[str] | None

    @classmethod
    def build(
        cls, include: re.Pattern[str] | None, exclude: re.Pattern[str] | None
    ) -> DeviceFilter:
        """The filter for the configured patterns (None or empty: not set)."""
        if include is not None and include.pattern:
            return cls(include, None)
        return cls(None, exclude if exclude is not None and exclude.pattern else None)

    def ignored(self, name: str) -> bool:
        """True when the device should not be reported (unanchored match, like Go's)."""
        if self.include is not None:
            return self.include.search(name) is None
        return self.exclude is not None and self.exclude.search(name) is not None
