"""Reading the receiver's config file into a `Config`, with every problem in one pass.

Channel sections are validated in two steps: the common keys (`name`, `type`,
`rate_limit`) here, the rest by the channel type's own `Config` dataclass, which only
the channels layer knows (`ChannelOptions`, implemented in `receiver.channels.options`).
Cross-references (routes and escalation steps to channels and policies) are checked
against every *defined* name, so a channel or policy with problems of its own is never
also reported as unknown.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

from receiver.config import (
    ChannelCommon,
    ChannelConfig,
    Config,
    EscalationPolicy,
    HeartbeatConfig,
    RawConfig,
    RouteConfig,
    TokenConfig,
)
from receiver.matchers import matches_all
from servicekit.loader import Loader
from servicekit.problems import ConfigError
from servicekit.sections import Unavailable, available, is_partial, key_name

_BASE_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")


class ChannelOptions(Protocol):
    """Validates a channel section's type-specific keys."""

    def types(self) -> Collection[str]:
        """Every channel type name."""
        ...

    def load(self, kind: str, options: dict[str, Any], key: str, loader: Loader) -> Any | None:
        """The type's validated options, or None after recording problems in `loader`."""
        ...


def read_config(path: str | Path, channel_options: ChannelOptions) -> Config:
    """Read and validate a config file; raises ConfigError with every problem."""
    loader, data = Loader.read(path)
    if not isinstance(data, dict):
        loader.problem("", "expected a mapping at the top level")
        raise ConfigError(loader.problems)
    raw = loader.load_partial(RawConfig, data)
    cfg = _resolve(raw or RawConfig(), loader, channel_options)
    if cfg is None or loader.problems:
        raise ConfigError(loader.problems)
    return cfg


def embedded_defaults(channel_options: ChannelOptions) -> Config:
    """The configuration without a file: every alert to the `log` channel."""
    loader = Loader("<embedded defaults>", Path.cwd())
    cfg = _resolve(RawConfig(), loader, channel_options)
    if cfg is None or loader.problems:
        raise ConfigError(loader.problems)
    return cfg


@dataclass
class _Names:
    """Every channel and policy name that is defined, valid or not, for cross-checks."""

    channels: set[str] = field(default_factory=set)
    policies: set[str] = field(default_factory=set)


def _resolve(raw: RawConfig, loader: Loader, channel_options: ChannelOptions) -> Config | None:
    """Check everything that spans sections; the Config only when nothing is wrong.

    `raw` may be partial (some sections failed): only what parsed is looked at, so
    each problem is reported once, where it is.
    """
    names = _Names()
    channels = _channels(available(raw, "channels") or [], loader, names, channel_options)
    policies = _policies(available(raw, "escalation_policies") or [], loader, names)
    routes = available(raw, "routes") or []
    for i, route in enumerate(routes):
        _check_route(route, f"routes[{i}]", loader, names)
    default = available(raw, "default_route")
    if default is not None:
        _check_route(default, "default_route", loader, names)
    _check_tokens(available(available(raw, "auth"), "tokens") or [], loader)
    heartbeats = available(raw, "heartbeats") or []
    _check_heartbeats(heartbeats, loader, names)
    _check_actions(raw, channels, names, loader)
    grafana_url = available(raw, "grafana_url") or ""
    # The value is not echoed: a URL may carry credentials.
    if grafana_url and not _BASE_URL.fullmatch(grafana_url):
        loader.problem(
            "grafana_url",
            "expected an http(s) base URL without query or fragment,"
            " such as https://grafana.example.com",
        )
    if loader.problems or is_partial(raw):
        return None
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
        heartbeats=heartbeats,
        action_links=raw.action_links,
        twilio_inbound=raw.twilio_inbound,
        grafana_url=grafana_url.rstrip("/"),
    )


def _channels(
    sections: list[dict[str, Any]], loader: Loader, names: _Names, options: ChannelOptions
) -> dict[str, ChannelConfig]:
    types = set(options.types())
    channels: dict[str, ChannelConfig] = {}
    first: dict[str, str] = {}
    for i, section in enumerate(sections):
        key = f"channels[{i}]"
        name, ch = _channel(section, key, types, loader, options)
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
        channels["log"] = ChannelConfig("log", "log", options.load("log", {}, "", loader))
        names.channels.add("log")
    return channels


def _channel(
    section: Any, key: str, types: set[str], loader: Loader, options: ChannelOptions
) -> tuple[str | None, ChannelConfig | None]:
    """The section's name (None when unusable) and its config (None when invalid)."""
    if not isinstance(section, dict):
        loader.problem(key, f"expected a mapping, got {type(section).__name__}")
        return None, None
    common_keys = {key_name(f.name) for f in fields(ChannelCommon)}
    rest = {k: v for k, v in section.items() if k not in common_keys}
    common = loader.load_partial(
        ChannelCommon, {k: v for k, v in section.items() if k in common_keys}, key
    )
    name, kind = available(common, "name"), available(common, "type")
    ok = not is_partial(common)
    if not isinstance(kind, str) or kind not in types:
        loader.problem(f"{key}.type", f"expected one of {', '.join(sorted(types))}, got {kind!r}")
        return name, None
    if name == "log" and kind != "log":
        loader.problem(
            f"{key}.type",
            f"'log' is the built-in log channel: expected type 'log', got {kind!r}"
            " (give this channel another name)",
        )
        ok = False
    validated = options.load(kind, rest, key, loader)
    if not ok or validated is None or common is None:
        return name, None
    return name, ChannelConfig(common.name, kind, validated, common.rate_limit)


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


def _check_route(route: RouteConfig, key: str, loader: Loader, names: _Names) -> None:
    for i, name in enumerate(available(route, "channels") or []):
        if name not in names.channels:
            loader.problem(f"{key}.channels[{i}]", f"unknown channel {name!r}")
    escalation = available(route, "escalation")
    if escalation is not None and escalation not in names.policies:
        loader.problem(f"{key}.escalation", f"unknown escalation policy {escalation!r}")


def _check_heartbeats(heartbeats: list[HeartbeatConfig], loader: Loader, names: _Names) -> None:
    """Unique names; channels and policies that exist; and no heartbeat's matchers may
    pick a missed-heartbeat incident's alert, which would then count as the heartbeat."""
    first: dict[str, str] = {}
    missed: list[tuple[str, dict[str, str]]] = []
    for i, hb in enumerate(heartbeats):
        key = f"heartbeats[{i}]"
        name = available(hb, "name")
        if name is not None:
            if name in first:
                loader.problem(
                    f"{key}.name", f"duplicate heartbeat name {name!r} (first in {first[name]})"
                )
            else:
                first[name] = key
        for j, channel in enumerate(available(hb, "channels") or []):
            if channel not in names.channels:
                loader.problem(f"{key}.channels[{j}]", f"unknown channel {channel!r}")
        escalation = available(hb, "escalation")
        if escalation is not None and escalation not in names.policies:
            loader.problem(f"{key}.escalation", f"unknown escalation policy {escalation!r}")
        if not is_partial(hb):
            missed.append((key, hb.missed_labels()))
    for i, hb in enumerate(heartbeats):
        if is_partial(hb):
            continue
        for other, labels in missed:
            if matches_all(hb.parsed_matchers, labels):
                loader.problem(
                    f"heartbeats[{i}].matchers",
                    f"also matches the alert of {other}'s missed-heartbeat incident"
                    f' ({labels["alertname"]}); narrow the matchers, e.g. alertname="..."',
                )
                break


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


def _check_actions(
    raw: RawConfig, channels: dict[str, ChannelConfig], names: _Names, loader: Loader
) -> None:
    """Links need an absolute URL to point at; SMS replies need a twilio channel."""
    links = available(raw, "action_links")
    web = available(raw, "web")
    keyed = links is not None and available(links, "key") is not None and web is not None
    if keyed and not available(links, "base_url") and not available(web, "external_url"):
        loader.problem(
            "action_links.base_url",
            "expected the incidents page's URL (or set web.external_url) for the links",
        )
    inbound = available(raw, "twilio_inbound")
    name = available(inbound, "channel") if inbound is not None else None
    if name is None:
        return
    if name not in names.channels:
        loader.problem("twilio_inbound.channel", f"no channel named {name!r}")
    elif name in channels and channels[name].type != "twilio":
        loader.problem("twilio_inbound.channel", f"channel {name!r} is not a twilio channel")
