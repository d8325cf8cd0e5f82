"""Third-party collectors, discovered through the `tocsin.collectors` entry-point group."""

from __future__ import annotations

from importlib.metadata import entry_points

import structlog

from exporter.collector import Collector

ENTRY_POINT_GROUP = "tocsin.collectors"

log = structlog.get_logger(__name__)


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
