"""Every collector there is: the built-in modules and the `tocsin.collectors` entry points.

Built-ins register themselves with `@register` when their module is imported; plugins are
found through the entry-point group. This module sits above both, so the registry in
`exporter.collector` never has to import what registers into it.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import structlog

from exporter import collectors as builtin
from exporter.collector import Collector, registered

ENTRY_POINT_GROUP = "tocsin.collectors"

log = structlog.get_logger(__name__)


def available() -> dict[str, type[Collector]]:
    """Every known collector: built-ins plus entry-point plugins, by name."""
    builtin.load_all()
    found = registered()
    for cls in load_plugins():
        taken = found.setdefault(cls.name, cls)
        if taken is not cls:
            log.error(
                "plugin_name_taken",
                collector=cls.name,
                plugin=f"{cls.__module__}.{cls.__qualname__}",
                kept=f"{taken.__module__}.{taken.__qualname__}",
            )
    return found


def load_plugins() -> list[type[Collector]]:
    """Load every plugin collector class; a plugin that fails to load is logged and skipped."""
    found: list[type[Collector]] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = ep.load()
        except Exception as exc:
            log.error("plugin_load_failed", entry_point=ep.name, error=str(exc))
            continue
        if not (isinstance(cls, type) and issubclass(cls, Collector) and cls.name):
            log.error(
                "plugin_invalid",
                entry_point=ep.name,
                error="not a tocsin Collector subclass with a name",
            )
            continue
        found.append(cls)
    return found
