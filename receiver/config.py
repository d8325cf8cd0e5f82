"""The receiver's configuration: YAML validated into dataclasses, with embedded defaults.

Channel sections are validated in two passes: the common keys (`name`, `type`,
`rate_limit`) here, the rest by the channel type's own `Config` dataclass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from receiver.confload import (
    ConfigError,
    Duration,
    Loader,
    Problem,
    Secret,
    read_yaml,
)

ROLES = ("ingest", "viewer", "operator", "admin")
_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(ms|s|m|h)\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class RateLimit:
    """`count` notifications per `per` seconds."""

    count: int
    per: float

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        m = _RATE_RE.match(text)
        if not m or int(m.group(1)) < 1:
            raise ValueError(f"expected a rate such as 5/s or 20/m, got {text!r}")
        mult = int(m.group(2)) if m.group(2) else 1
        return cls(int(m.group(1)), mult * _UNIT[m.group(3)])


@dataclass
class ChannelConfig:
    """One configured channel: common keys plus the type's validated options."""

    name: str
    type: str
    options: Any = None
    rate_limit: RateLimit | None = None


@dataclass
class RouteConfig:
    """An Alertmanager-style route: matchers select incidents for channels or a policy."""

    matchers: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    escalation: str | None = None
    repeat_interval: Duration | None = None
    continue_: bool = False

    def validate(self) -> list[tuple[str, str]]:
        from receiver.pipeline.matchers import parse_matcher

        problems: list[tuple[str, str]] = []
        for i, text in enumerate(self.matchers):
            try:
                parse_matcher(text)
            except ValueError as exc:
                problems.append((f"matchers[{i}]", str(exc)))
        if not self.channels and not self.escalation:
            problems.append(("", "a route needs channels or escalation"))
        if self.channels and self.escalation:
            problems.append(("", "set either channels or escalation, not both"))
        return problems


@dataclass
class EscalationStep:
    """Notify `channels` once the incident has been open for `after`."""

    channels: list[str]
    after: Duration = Duration(0)


@dataclass
class EscalationPolicy:
    """Ordered steps; the last one may repeat every `repeat_last_every`."""

    name: str
    steps: list[EscalationStep]
    repeat_last_every: Duration | None = None

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if not self.steps:
            problems.append(("steps", "expected at least one step"))
        afters = [s.after for s in self.steps]
        if afters != sorted(afters):
            problems.append(("steps", "steps must be ordered by `after`"))
        return problems


@dataclass
class TokenConfig:
    """An API token: its SHA-256 (hex) or the token itself (`token`/`token_file`)."""

    name: str
    roles: list[str]
    sha256: str | None = None
    token: Secret | None = None

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if (self.sha256 is None) == (self.token is None):
            problems.append(("", "set exactly one of sha256, token or token_file"))
        if self.sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", self.sha256):
            problems.append(("sha256", "expected 64 hex digits (sha256sum of the token)"))
        for i, role in enumerate(self.roles):
            if role not in ROLES:
                problems.append((f"roles[{i}]", f"expected one of {', '.join(ROLES)}"))
        return problems


@dataclass
class AuthConfig:
    tokens: list[TokenConfig] = field(default_factory=list)


@dataclass
class StormConfig:
    """Storm mode: more than `threshold` new incidents within `window`."""

    threshold: int = 100
    window: Duration = Duration(300)
    digest_interval: Duration = Duration(30)


@dataclass
class OutboxConfig:
    max_attempts: int = 10
    max_age: Duration = Duration(3600)
    backoff_initial: Duration = Duration(1)
    backoff_max: Duration = Duration(300)
    concurrency: int = 16


@dataclass
class StorageConfig:
    path: Path | None = None
    synchronous: str = "FULL"

    def validate(self) -> list[tuple[str, str]]:
        if self.synchronous not in ("FULL", "NORMAL", "EXTRA"):
            return [("synchronous", "expected FULL, NORMAL or EXTRA")]
        return []


@dataclass
class WebConfig:
    max_body_bytes: int = 10 * 1024 * 1024
    external_url: str = ""


@dataclass
class RawConfig:
    """The YAML file's top level, before channels are resolved."""

    channels: list[dict[str, Any]] = field(default_factory=list)
    routes: list[dict[str, Any]] = field(default_factory=list)
    default_route: dict[str, Any] | None = None
    escalation_policies: list[EscalationPolicy] = field(default_factory=list)
    auth: AuthConfig = field(default_factory=AuthConfig)
    storm: StormConfig = field(default_factory=StormConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    web: WebConfig = field(default_factory=WebConfig)
    retention: Duration = Duration(30 * 86400)
    templates_dir: Path | None = None


@dataclass
class Config:
    """The validated configuration the service runs on."""

    channels: dict[str, ChannelConfig]
    routes: list[RouteConfig]
    default_route: RouteConfig
    escalation_policies: dict[str, EscalationPolicy]
    auth: AuthConfig
    storm: StormConfig
    outbox: OutboxConfig
    storage: StorageConfig
    web: WebConfig
    retention: Duration
    templates_dir: Path | None
    source: str = "<embedded defaults>"


def default_config() -> Config:
    """Embedded defaults: every alert to the `log` channel."""
    return build(RawConfig(), "<embedded defaults>", Path.cwd())


def load_config(path: str | Path) -> Config:
    """Read and validate a config file; raises ConfigError with every problem."""
    data, problems = read_yaml(path)
    loader = Loader(str(path))
    loader.problems.extend(problems)
    if data is None:
        raise ConfigError(loader.problems or [Problem(str(path), "", "invalid configuration")])
    cfg = _resolve(_load_sections(data, loader), loader)
    if loader.problems:
        raise ConfigError(loader.problems)
    return cfg


def _load_sections(data: Any, loader: Loader) -> RawConfig:
    """Validate each top-level section on its own, so one bad section does not hide
    the problems of the others (channels and routes are still cross-checked)."""
    raw = RawConfig()
    if not isinstance(data, dict):
        loader.problem("", "expected a mapping at the top level")
        return raw
    hints = get_type_hints(RawConfig)
    for key, value in data.items():
        name = str(key)
        if name not in hints:
            loader.problem(name, f"unknown key (expected one of: {', '.join(sorted(hints))})")
            continue
        before = len(loader.problems)
        converted = loader.convert(hints[name], value, name)
        if len(loader.problems) == before and converted is not None:
            setattr(raw, name, converted)
    return raw


def build(raw: RawConfig, source: str, base_dir: Path) -> Config:
    """Resolve an already-validated RawConfig (used for the embedded defaults)."""
    loader = Loader(source, base_dir)
    cfg = _resolve(raw, loader)
    if loader.problems:
        raise ConfigError(loader.problems)
    return cfg


def _resolve(raw: RawConfig, loader: Loader) -> Config:
    from receiver.channels.base import channel_types

    types = channel_types()
    channels: dict[str, ChannelConfig] = {}
    for i, section in enumerate(raw.channels):
        key = f"channels[{i}]"
        ch = _channel(section, key, types, loader)
        if ch is None:
            continue
        if ch.name in channels:
            loader.problem(f"{key}.name", f"duplicate channel name {ch.name!r}")
        channels[ch.name] = ch
    if "log" not in channels and "log" in types:
        channels["log"] = ChannelConfig("log", "log", types["log"].Config())
    policies = {p.name: p for p in raw.escalation_policies}
    for i, p in enumerate(raw.escalation_policies):
        for j, step in enumerate(p.steps):
            for k, name in enumerate(step.channels):
                if name not in channels:
                    loader.problem(
                        f"escalation_policies[{i}].steps[{j}].channels[{k}]",
                        f"unknown channel {name!r}",
                    )
    routes: list[RouteConfig] = []
    for i, section in enumerate(raw.routes):
        r = _route(section, f"routes[{i}]", loader, channels, policies)
        if r is not None:
            routes.append(r)
    default = (
        _route(raw.default_route, "default_route", loader, channels, policies)
        if raw.default_route is not None
        else RouteConfig(channels=["log"])
    )
    for i, t in enumerate(raw.auth.tokens):
        if sum(1 for o in raw.auth.tokens if o.name == t.name) > 1:
            loader.problem(f"auth.tokens[{i}].name", f"duplicate token name {t.name!r}")
    return Config(
        channels=channels,
        routes=routes,
        default_route=default or RouteConfig(channels=["log"]),
        escalation_policies=policies,
        auth=raw.auth,
        storm=raw.storm,
        outbox=raw.outbox,
        storage=raw.storage,
        web=raw.web,
        retention=raw.retention,
        templates_dir=raw.templates_dir,
        source=loader.file,
    )


def _channel(
    section: dict[str, Any], key: str, types: dict[str, Any], loader: Loader
) -> ChannelConfig | None:
    if not isinstance(section, dict):
        loader.problem(key, "expected a mapping")
        return None
    rest = dict(section)
    name, kind, rate = rest.pop("name", None), rest.pop("type", None), rest.pop("rate_limit", None)
    ok = True
    if not isinstance(name, str) or not name:
        loader.problem(f"{key}.name", "required key is missing (a string)")
        ok = False
    if kind not in types:
        loader.problem(f"{key}.type", f"expected one of {', '.join(sorted(types))}, got {kind!r}")
        return None
    limit = None
    if rate is not None:
        try:
            limit = RateLimit.parse(str(rate))
        except ValueError as exc:
            loader.problem(f"{key}.rate_limit", str(exc))
            ok = False
    before = len(loader.problems)
    options = loader.load(types[kind].Config, rest, key)
    if not ok or len(loader.problems) > before:
        return None
    return ChannelConfig(str(name), str(kind), options, limit)


def _route(
    section: Any,
    key: str,
    loader: Loader,
    channels: dict[str, ChannelConfig],
    policies: dict[str, EscalationPolicy],
) -> RouteConfig | None:
    if isinstance(section, dict) and "continue" in section:
        section = dict(section)
        section["continue_"] = section.pop("continue")
    route = loader.load(RouteConfig, section, key)
    if route is None:
        return None
    for i, name in enumerate(route.channels):
        if name not in channels:
            loader.problem(f"{key}.channels[{i}]", f"unknown channel {name!r}")
    if route.escalation is not None and route.escalation not in policies:
        loader.problem(f"{key}.escalation", f"unknown escalation policy {route.escalation!r}")
    return route
