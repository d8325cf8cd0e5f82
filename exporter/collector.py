"""The collector plugin API: a collector is a class with a name that yields metric families.

Built-in collectors live one per module in `exporter.collectors` and register themselves
with `@register`; third-party collectors are found through the `tocsin.collectors`
entry-point group (`exporter.discovery` finds both). Both follow the same contract:

- `name`: the collector's name, used in `--collector.<name>` flags, the `collectors:` config
  section and the `collector` label of the exporter's self-metrics.
- `default_enabled`: whether it runs without being asked for.
- `Config`: an optional dataclass its `collectors.<name>` config section is validated into;
  `self.config` holds it, or the defaults when the section is absent.
- `collect()`: called in a worker thread on every collection; yields
  `prometheus_client.core.*MetricFamily` objects. Raising `CollectorUnavailable` says the
  platform lacks what it reads; any other exception marks this collection failed.
- `start()` / `stop()`: optional coroutines for collectors that work in the background
  (probes, log followers) and only report their state from `collect()`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from prometheus_client.metrics_core import Metric

from exporter.sharedreads import SharedReads

_REGISTRY: dict[str, type[Collector]] = {}


class CollectorUnavailable(Exception):
    """The host lacks what this collector reads (no PSI, not Linux, ...)."""


@dataclass(frozen=True)
class HostPaths:
    """Where the host's /proc, /sys and / are mounted (node_exporter's --path.* flags)."""

    procfs: Path = Path("/proc")
    sysfs: Path = Path("/sys")
    rootfs: Path = Path("/")

    def proc(self, *parts: str) -> Path:
        """Path under procfs."""
        return self.procfs.joinpath(*parts)

    def sys(self, *parts: str) -> Path:
        """Path under sysfs."""
        return self.sysfs.joinpath(*parts)

    def root(self, path: str) -> Path:
        """A host path (absolute inside the host) as seen from this process."""
        return self.rootfs / path.lstrip("/")


@dataclass
class CollectorContext:
    """What a collector gets when it is built."""

    paths: HostPaths = field(default_factory=HostPaths)
    state_dir: Path = Path("./tocsin-exporter-state")
    config: Any = None
    # Shared by every collector of one collection (the server gives them one); a context
    # built alone gets its own, which then never shares.
    reads: SharedReads = field(default_factory=SharedReads)


class Collector:
    """Base class for collectors; subclasses set `name` and implement `collect`."""

    name: ClassVar[str] = ""
    default_enabled: ClassVar[bool] = True
    description: ClassVar[str] = ""
    Config: ClassVar[type | None] = None
    # Any, so that each collector can narrow it to its own Config (`config: MyConfig`).
    config: Any

    def __init__(self, ctx: CollectorContext) -> None:
        self.ctx = ctx
        self.paths = ctx.paths
        # Built without its section (tests, a plugin run by hand) a collector runs on defaults.
        self.config = ctx.config if ctx.config is not None else default_config(type(self))

    def collect(self) -> Iterable[Metric]:
        """Yield this collector's metric families; runs in a worker thread."""
        raise NotImplementedError

    async def start(self) -> None:
        """Start background work (probes, followers). Default: nothing to start."""

    async def stop(self) -> None:
        """Stop background work and persist state. Default: nothing to stop."""


def register(cls: type[Collector]) -> type[Collector]:
    """Class decorator that makes a built-in collector known by its name."""
    if not cls.name:
        raise ValueError(f"{cls.__qualname__} has no name")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"collector {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def default_config(cls: type[Collector]) -> Any:
    """An instance of the collector's Config with every default, or None if it has none."""
    if cls.Config is None:
        return None
    return cls.Config()


def registered() -> dict[str, type[Collector]]:
    """The collectors registered with `@register` so far, by name."""
    return dict(_REGISTRY)
