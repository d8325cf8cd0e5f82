"""Ordered routes with `continue` and a default route, as in Alertmanager's routing tree."""

from __future__ import annotations

from dataclasses import dataclass, field

from receiver.config import HEARTBEAT_ALERTNAME, Config, HeartbeatConfig, RouteConfig
from receiver.matchers import Matcher, matches_all


@dataclass(frozen=True)
class Target:
    """Where an incident goes: direct channels and escalation policies."""

    channels: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()
    repeat_interval: float | None = None
    # False when a route that picked the incident sets `announce_acks: false`.
    announce_acks: bool = True


@dataclass
class Router:
    """Evaluates the configured routes against an incident's labels."""

    routes: list[tuple[list[Matcher], RouteConfig]] = field(default_factory=list)
    default: RouteConfig = field(default_factory=lambda: RouteConfig(channels=["log"]))

    @classmethod
    def from_config(cls, cfg: Config) -> Router:
        # A heartbeat naming its own channels or policy routes its missed incident
        # ahead of the configured tree; one naming neither leaves it to the tree.
        own = [(_missed(hb), r) for hb in cfg.heartbeats if (r := hb.route()) is not None]
        return cls([*own, *((r.parsed_matchers, r) for r in cfg.routes)], cfg.default_route)

    def route(self, labels: dict[str, str]) -> Target:
        """First matching route, plus following ones while `continue` is set."""
        chosen: list[RouteConfig] = []
        for matchers, route in self.routes:
            if matches_all(matchers, labels):
                chosen.append(route)
                if not route.continue_:
                    break
        if not chosen:
            chosen = [self.default]
        channels: list[str] = []
        policies: list[str] = []
        repeat: float | None = None
        for r in chosen:
            channels.extend(c for c in r.channels if c not in channels)
            if r.escalation and r.escalation not in policies:
                policies.append(r.escalation)
            if r.repeat_interval is not None:
                repeat = r.repeat_interval if repeat is None else min(repeat, r.repeat_interval)
        announce = all(r.announce_acks for r in chosen)
        return Target(tuple(channels), tuple(policies), repeat, announce)


def _missed(hb: HeartbeatConfig) -> list[Matcher]:
    """Matchers picking the incident opened when `hb` stops arriving."""
    return [Matcher("alertname", "=", HEARTBEAT_ALERTNAME), Matcher("heartbeat", "=", hb.name)]
