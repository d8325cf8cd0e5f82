"""The exporter's YAML configuration: a `global` section and one section per collector.

```yaml
global:
  state_dir: /var/lib/tocsin-exporter
  min_interval: 1s          # scrapes inside this window share one collection
  collector_timeout: 10s    # default per-collector timeout
collectors:
  filesystem:
    enabled: true
    timeout: 5s
    mount_points_exclude: "^/(dev|proc|sys)($|/)"   # the collector's own Config fields
```

The framework owns `enabled` and `timeout`; every other key of a collector's section is
validated into that collector's `Config` dataclass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from annotated_types import Gt

from exporter.collector import Collector, default_config
from servicekit.loader import Loader
from servicekit.problems import ConfigError
from servicekit.sections import available
from servicekit.values import Duration

_FRAMEWORK_KEYS = ("enabled", "timeout")


@dataclass
class GlobalConfig:
    """Settings that apply to the whole exporter."""

    state_dir: Path = Path("./tocsin-exporter-state")
    min_interval: Duration = Duration(1.0)
    collector_timeout: Annotated[Duration, Gt(0)] = Duration(10.0)


@dataclass
class _File:
    """The file's top level."""

    global_: GlobalConfig = field(default_factory=GlobalConfig)
    # A collector's keys depend on the collector: each section is validated on its own
    # (see `_load_collectors`), so one bad section does not hide the others' problems.
    collectors: dict[str, Any] | None = None


@dataclass
class FrameworkKeys:
    """The keys of a collector's section that the framework, not the collector, owns."""

    enabled: bool | None = None
    timeout: Annotated[Duration, Gt(0)] | None = None


@dataclass
class CollectorSettings:
    """One collector's section: framework keys plus its validated Config instance."""

    enabled: bool | None = None
    timeout: float | None = None
    config: Any = None


@dataclass
class ExporterConfig:
    """The whole validated configuration file (or the defaults when there is none)."""

    global_: GlobalConfig = field(default_factory=GlobalConfig)
    collectors: dict[str, CollectorSettings] = field(default_factory=dict)
    file: str | None = None


@dataclass(frozen=True)
class EnabledCollector:
    """A collector chosen to run, with its effective timeout and config."""

    cls: type[Collector]
    timeout: float
    config: Any


def load_config(path: str | Path | None, known: Mapping[str, type[Collector]]) -> ExporterConfig:
    """Read and validate the config file; raises ConfigError listing every problem."""
    if path is None:
        return ExporterConfig()
    loader, data = Loader.read(path)
    top = loader.load_partial(_File, data)
    collectors = _load_collectors(loader, available(top, "collectors") or {}, known)
    if loader.problems or top is None:
        raise ConfigError(loader.problems)
    return ExporterConfig(global_=top.global_, collectors=collectors, file=loader.file)


def _load_collectors(
    loader: Loader, raw: dict[str, Any], known: Mapping[str, type[Collector]]
) -> dict[str, CollectorSettings]:
    result: dict[str, CollectorSettings] = {}
    for raw_name, section in raw.items():
        name = str(raw_name)
        key = f"collectors.{name}"
        cls = known.get(name)
        if cls is None:
            loader.problem(key, f"unknown collector (known: {', '.join(sorted(known))})")
            continue
        if section is None:
            section = {}
        if not isinstance(section, dict):
            loader.problem(key, "expected a mapping")
            continue
        rest = {k: v for k, v in section.items() if k not in _FRAMEWORK_KEYS}
        framework = {k: v for k, v in section.items() if k in _FRAMEWORK_KEYS}
        keys = loader.load(FrameworkKeys, framework, key) or FrameworkKeys()
        config = _load_collector_config(loader, cls, rest, key)
        result[name] = CollectorSettings(enabled=keys.enabled, timeout=keys.timeout, config=config)
    return result


def _load_collector_config(
    loader: Loader, cls: type[Collector], rest: dict[str, Any], key: str
) -> Any:
    if cls.Config is None:
        for extra in rest:
            loader.problem(
                f"{key}.{extra}",
                "unknown key (this collector takes only: enabled, timeout)",
            )
        return None
    if not dataclasses.is_dataclass(cls.Config):
        raise TypeError(f"collector {cls.name!r}: Config must be a dataclass")
    return loader.load(cls.Config, rest, key)


def choose_collectors(
    config: ExporterConfig,
    known: Mapping[str, type[Collector]],
    flags: Mapping[str, bool | None] | None = None,
    disable_defaults: bool = False,
) -> list[EnabledCollector]:
    """The collectors to run: flags override the config file, which overrides defaults."""
    flags = flags or {}
    chosen = []
    for name in sorted(known):
        cls = known[name]
        settings = config.collectors.get(name, CollectorSettings())
        enabled = cls.default_enabled and not disable_defaults
        if settings.enabled is not None:
            enabled = settings.enabled
        flag = flags.get(name)
        if flag is not None:
            enabled = flag
        if not enabled:
            continue
        timeout = settings.timeout or float(config.global_.collector_timeout)
        cfg = settings.config if settings.config is not None else default_config(cls)
        chosen.append(EnabledCollector(cls=cls, timeout=timeout, config=cfg))
    return chosen
