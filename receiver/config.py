"""The receiver's configuration: YAML validated into dataclasses, with embedded defaults.

Channel sections are validated in two steps: the common keys (`name`, `type`,
`rate_limit`) here, the rest by the channel type's own `Config` dataclass. Every
problem is found in one pass: cross-references (routes and escalation steps to
channels and policies) are checked against every *defined* name, so a channel or
policy with problems of its own is never also reported as unknown.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servicekit.loader import Loader, Unavailable, available, bounds, is_partial
from servicekit.problems import ConfigError, Problem
from servicekit.values import Duration, Secret
from servicekit.yamlfile import read_yaml

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
    repeat_interval: Duration | None = field(default=None, metadata=bounds(gt=0))
    continue_: bool = False

    def validate(self) -> list[tuple[str, str]]:
        from receiver.pipeline.matchers import MatcherError, parse_matchers

        problems: list[tuple[str, str]] = []
        for i, text in enumerate(self.matchers):
            try:
                parse_matchers([text])
            except MatcherError as exc:
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

    def validate(self) -> list[tuple[str, str]]:
        if not self.channels:
            return [("channels", "expected at least one channel")]
        return []


@dataclass
class EscalationPolicy:
    """Ordered steps; the last one may repeat every `repeat_last_every`."""

    name: str
    steps: list[EscalationStep]
    repeat_last_every: Duration | None = field(default=None, metadata=bounds(gt=0))

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if not self.name:
            problems.append(("name", "expected a non-empty name"))
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
        if self.token is not None and not re.fullmatch(r"[!-~]+", self.token.reveal()):
            # A Bearer header carries printable ASCII only; anything else never matches.
            problems.append(("token", "expected printable ASCII characters without spaces"))
        if not self.roles:
            problems.append(("roles", f"expected at least one of {', '.join(ROLES)}"))
        for i, role in enumerate(self.roles):
            if role not in ROLES:
                problems.append((f"roles[{i}]", f"expected one of {', '.join(ROLES)}"))
        return problems

    def digest(self) -> bytes | None:
        """SHA-256 of the token, the form it is compared in; None when not configured."""
        if self.sha256 is not None:
            try:
                return bytes.fromhex(self.sha256)
            except ValueError:
                return None
        if self.token is not None:
            return hashlib.sha256(self.token.reveal().encode("utf-8", "replace")).digest()
        return None


@dataclass
class AuthConfig:
    tokens: list[TokenConfig] = field(default_factory=list)


@dataclass
class StormConfig:
    """Storm mode: more than `threshold` new incidents within `window`; 0 turns it off."""

    threshold: int = field(default=100, metadata=bounds(ge=0))
    window: Duration = field(default=Duration(300), metadata=bounds(gt=0))
    digest_interval: Duration = field(default=Duration(30), metadata=bounds(gt=0))


@dataclass
class OutboxConfig:
    max_attempts: int = field(default=10, metadata=bounds(ge=1))
    max_age: Duration = field(default=Duration(3600), metadata=bounds(gt=0))
    backoff_initial: Duration = field(default=Duration(1), metadata=bounds(gt=0))
    backoff_max: Duration = field(default=Duration(300), metadata=bounds(gt=0))
    concurrency: int = field(default=16, metadata=bounds(ge=1))

    def validate(self) -> list[tuple[str, str]]:
        if self.backoff_initial > self.backoff_max:
            return [("backoff_initial", "expected no more than backoff_max")]
        return []


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
    max_body_bytes: int = field(default=10 * 1024 * 1024, metadata=bounds(ge=1))
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
    # Resolved incidents older than this are pruned; 0 would prune them at once, so a
    # positive duration is required (write e.g. 10y to keep them for good).
    retention: Duration = field(default=Duration(30 * 86400), metadata=bounds(gt=0))
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
    if not isinstance(data, dict):
        loader.problem("", "expected a mapping at the top level")
        raise ConfigError(loader.problems)
    raw = loader.load_partial(RawConfig, data)
    cfg = _resolve(raw or RawConfig(), loader)
    if cfg is None or loader.problems:
        raise ConfigError(loader.problems)
    return cfg


def build(raw: RawConfig, source: str, base_dir: Path) -> Config:
    """Resolve an already-validated RawConfig (used for the embedded defaults)."""
    loader = Loader(source, base_dir)
    cfg = _resolve(raw, loader)
    if cfg is None or loader.problems:
        raise ConfigError(loader.problems)
    return cfg


@dataclass
class _Names:
    """Every channel and policy name that is defined, valid or not, for cross-checks."""

    channels: set[str] = field(default_factory=set)
    policies: set[str] = field(default_factory=set)


def _resolve(raw: RawConfig, loader: Loader) -> Config | None:
    """Check everything that spans sections; the Config only when nothing is wrong.

    `raw` may be partial (some sections failed): only what parsed is looked at, so
    each problem is reported once, where it is.
    """
    names = _Names()
    channels = _channels(available(raw, "channels") or [], loader, names)
    policies = _policies(available(raw, "escalation_policies") or [], loader, names)
    routes: list[RouteConfig] = []
    for i, section in enumerate(available(raw, "routes") or []):
        r = _route(section, f"routes[{i}]", loader, names)
        if r is not None:
            routes.append(r)
    default_section = available(raw, "default_route")
    default = (
        _route(default_section, "default_route", loader, names)
        if default_section is not None
        else RouteConfig(channels=["log"])
    )
    auth = available(raw, "auth")
    _check_tokens(available(auth, "tokens") or [], loader)
    if loader.problems or is_partial(raw) or default is None:
        return None
    return Config(
        channels=channels,
        routes=routes,
        default_route=default,
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


def _channels(
    sections: list[dict[str, Any]], loader: Loader, names: _Names
) -> dict[str, ChannelConfig]:
    from receiver.channels.base import channel_types

    types = channel_types()
    channels: dict[str, ChannelConfig] = {}
    first: dict[str, str] = {}
    for i, section in enumerate(sections):
        key = f"channels[{i}]"
        name, ch = _channel(section, key, types, loader)
        if name is None:
            continue
        if name in first:
            loader.problem(
                f"{key}.name", f"duplicate channel name {name!r} (first in {first[name]})"
            )
            continue
        first[name] = key
        names.channels.add(name)
        if ch is not None:
            channels[name] = ch
    if "log" in types and "log" not in names.channels:
        channels["log"] = ChannelConfig("log", "log", types["log"].Config())
        names.channels.add("log")
    return channels


def _channel(
    section: Any, key: str, types: dict[str, Any], loader: Loader
) -> tuple[str | None, ChannelConfig | None]:
    """The section's name (None when unusable) and its config (None when invalid)."""
    if not isinstance(section, dict):
        loader.problem(key, f"expected a mapping, got {type(section).__name__}")
        return None, None
    rest = dict(section)
    name, kind, rate = rest.pop("name", None), rest.pop("type", None), rest.pop("rate_limit", None)
    ok = True
    if not isinstance(name, str) or not name:
        loader.problem(f"{key}.name", "required key is missing (a non-empty string)")
        name = None
        ok = False
    if kind not in types:
        loader.problem(f"{key}.type", f"expected one of {', '.join(sorted(types))}, got {kind!r}")
        return name, None
    if name == "log" and kind != "log":
        loader.problem(
            f"{key}.type",
            f"'log' is the built-in log channel: expected type 'log', got {kind!r}"
            " (give this channel another name)",
        )
        ok = False
    limit = None
    if rate is not None:
        try:
            limit = RateLimit.parse(str(rate))
        except ValueError as exc:
            loader.problem(f"{key}.rate_limit", str(exc))
            ok = False
    options = loader.load(types[kind].Config, rest, key)
    if not ok or options is None or name is None:
        return name, None
    return name, ChannelConfig(name, str(kind), options, limit)


def _policies(
    policies: list[EscalationPolicy], loader: Loader, names: _Names
) -> dict[str, EscalationPolicy]:
    """Policies by name; duplicates and steps naming undefined channels are problems."""
    result: dict[str, EscalationPolicy] = {}
    first: dict[str, str] = {}
    for i, p in enumerate(policies):
        key = f"escalation_policies[{i}]"
        name = available(p, "name")
        if name:
            if name in first:
                loader.problem(
                    f"{key}.name",
                    f"duplicate escalation policy name {name!r} (first in {first[name]})",
                )
            else:
                first[name] = key
                names.policies.add(name)
                if not is_partial(p):
                    result[name] = p
        for j, step in enumerate(available(p, "steps") or []):
            for k, channel in enumerate(available(step, "channels") or []):
                if channel not in names.channels:
                    loader.problem(
                        f"{key}.steps[{j}].channels[{k}]", f"unknown channel {channel!r}"
                    )
    return result


def _route(section: Any, key: str, loader: Loader, names: _Names) -> RouteConfig | None:
    if isinstance(section, dict) and "continue" in section:
        section = dict(section)
        section["continue_"] = section.pop("continue")
    route = loader.load_partial(RouteConfig, section, key)
    if route is None:
        return None
    for i, name in enumerate(available(route, "channels") or []):
        if name not in names.channels:
            loader.problem(f"{key}.channels[{i}]", f"unknown channel {name!r}")
    escalation = available(route, "escalation")
    if escalation is not None and escalation not in names.policies:
        loader.problem(f"{key}.escalation", f"unknown escalation policy {escalation!r}")
    return None if is_partial(route) else route


def _check_tokens(tokens: list[TokenConfig], loader: Loader) -> None:
    """Token names and secrets must be unique: with two equal secrets, one token's roles
    would silently shadow the other's."""
    names: dict[str, int] = {}
    digests: dict[bytes, int] = {}
    for i, t in enumerate(tokens):
        name = available(t, "name")
        if name is not None:
            if name in names:
                loader.problem(f"auth.tokens[{i}].name", f"duplicate token name {name!r}")
            else:
                names[name] = i
        if available(t, "sha256") is not None and available(t, "token") is not None:
            continue
        try:
            digest = t.digest()
        except Unavailable:  # a field that failed: its own problem is already reported
            continue
        if digest is None:
            continue
        if digest in digests:
            loader.problem(
                f"auth.tokens[{i}]",
                f"same secret as auth.tokens[{digests[digest]}]; expected a distinct secret"
                " per token (one would shadow the other's roles)",
            )
        else:
            digests[digest] = i
