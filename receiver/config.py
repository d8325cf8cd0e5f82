"""What the receiver's configuration holds: one dataclass per section, and the resolved
`Config` the service runs on.

Reading a file into these (every problem in one pass, cross-references between
sections) is `receiver.config_reader`'s job; a channel's own options are validated by
its type's `Config` in the channels layer (`receiver.channels.options`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from annotated_types import Ge, Gt, MinLen

from receiver.matchers import Matcher, MatcherSet
from servicekit.values import Duration, Secret

ROLES = ("ingest", "viewer", "operator", "admin")
_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(ms|s|m|h)\s*$")


@dataclass(frozen=True)
class RateLimit:
    """`count` notifications per `per` seconds."""

    count: int
    per: float

    @classmethod
    def parse(cls, text: object) -> RateLimit:
        m = _RATE_RE.match(text) if isinstance(text, str) else None
        if not m or int(m.group(1)) < 1:
            raise ValueError(f"expected a rate such as 5/s or 20/m, got {text!r}")
        # `20/5m`: the period is a duration in the shared units, `5m` here.
        per = Duration.parse(f"{m.group(2) or 1}{m.group(3)}")
        return cls(int(m.group(1)), float(per))


@dataclass
class ChannelCommon:
    """The keys every channel section has; the rest depend on its type."""

    name: Annotated[str, MinLen(1)]
    # Checked against the channel types registered, which only the channels layer knows.
    type: Any = None
    rate_limit: RateLimit | None = None


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

    matchers: list[MatcherSet] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    escalation: str | None = None
    repeat_interval: Annotated[Duration, Gt(0)] | None = None
    continue_: bool = False
    # Tell every channel that was notified when the incident is acknowledged.
    announce_acks: bool = True

    @property
    def parsed_matchers(self) -> list[Matcher]:
        """Every matcher of every entry, as parsed when the config was read."""
        return [m for entry in self.matchers for m in entry.matchers]

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if not self.channels and not self.escalation:
            problems.append(("", "a route needs channels or escalation"))
        if self.channels and self.escalation:
            problems.append(("", "set either channels or escalation, not both"))
        return problems


@dataclass
class EscalationStep:
    """Notify `channels` once the incident has been open for `after`."""

    channels: Annotated[list[str], MinLen(1)]
    after: Duration = Duration(0)


@dataclass
class EscalationPolicy:
    """Ordered steps; the last one may repeat every `repeat_last_every`."""

    name: Annotated[str, MinLen(1)]
    steps: Annotated[list[EscalationStep], MinLen(1)]
    repeat_last_every: Annotated[Duration, Gt(0)] | None = None

    def validate(self) -> list[tuple[str, str]]:
        afters = [s.after for s in self.steps]
        if afters != sorted(afters):
            return [("steps", "steps must be ordered by `after`")]
        return []


HEARTBEAT_ALERTNAME = "TocsinHeartbeatMissed"
_LABEL_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


@dataclass
class HeartbeatConfig:
    """A dead man's switch: an always-firing alert (picked by `matchers`) that must
    arrive at least every `interval`. When it stops, the receiver opens an incident of
    its own (`missed_labels`) for `channels` or `escalation`, or, with neither, for
    whatever the routing tree picks for those labels."""

    name: Annotated[str, MinLen(1)]
    matchers: Annotated[list[MatcherSet], MinLen(1)]
    interval: Annotated[Duration, Gt(0)]
    channels: list[str] = field(default_factory=list)
    escalation: str | None = None
    repeat_interval: Annotated[Duration, Gt(0)] | None = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def parsed_matchers(self) -> list[Matcher]:
        """Every matcher of every entry, as parsed when the config was read."""
        return [m for entry in self.matchers for m in entry.matchers]

    def missed_labels(self) -> dict[str, str]:
        """The labels of the incident opened when this heartbeat stops arriving."""
        labels = {"severity": "critical", **self.labels}
        return {**labels, "alertname": HEARTBEAT_ALERTNAME, "heartbeat": self.name}

    def route(self) -> RouteConfig | None:
        """The route of its missed incident; None leaves it to the routing tree."""
        if not self.channels and not self.escalation:
            return None
        return RouteConfig(
            channels=list(self.channels),
            escalation=self.escalation,
            repeat_interval=self.repeat_interval,
        )

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if self.channels and self.escalation:
            problems.append(("", "set either channels or escalation, not both"))
        for key in self.labels:
            if not _LABEL_NAME_RE.fullmatch(key):
                problems.append((f"labels.{key}", "expected a label name ([a-zA-Z_][a-zA-Z0-9_]*)"))
            elif key in ("alertname", "heartbeat"):
                problems.append((f"labels.{key}", "set by the receiver; choose another label"))
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

    threshold: Annotated[int, Ge(0)] = 100
    window: Annotated[Duration, Gt(0)] = Duration(300)
    digest_interval: Annotated[Duration, Gt(0)] = Duration(30)


@dataclass
class OutboxConfig:
    max_attempts: Annotated[int, Ge(1)] = 10
    max_age: Annotated[Duration, Gt(0)] = Duration(3600)
    backoff_initial: Annotated[Duration, Gt(0)] = Duration(1)
    backoff_max: Annotated[Duration, Gt(0)] = Duration(300)
    concurrency: Annotated[int, Ge(1)] = 16
    # With several receivers on one PostgreSQL: how long a receiver that claimed a row
    # has to send it before another may retry it (with the same idempotency key).
    lease: Annotated[Duration, Gt(0)] = Duration(60)

    def validate(self) -> list[tuple[str, str]]:
        if self.backoff_initial > self.backoff_max:
            return [("backoff_initial", "expected no more than backoff_max")]
        return []


BACKENDS = ("sqlite", "postgres")


@dataclass
class StorageConfig:
    """Where the receiver stores: SQLite under `path` (one receiver), or PostgreSQL at
    `dsn` (several replicas). The DSN is a secret: it may hold a password."""

    backend: str = "sqlite"
    path: Path | None = None
    synchronous: str = "FULL"
    dsn: Secret | None = None
    # Connections each replica opens at most (readers, the writer, webhook intake).
    pool_size: Annotated[int, Ge(2)] = 8
    # How long a statement waits for a connection (or to connect) before the store
    # reports it cannot commit: webhooks then hear 503 and Alertmanager retries.
    connect_timeout: Annotated[Duration, Gt(0)] = Duration(5)

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if self.backend not in BACKENDS:
            problems.append(("backend", "expected sqlite or postgres"))
        if self.synchronous not in ("FULL", "NORMAL", "EXTRA"):
            problems.append(("synchronous", "expected FULL, NORMAL or EXTRA"))
        if self.backend == "postgres" and not self.dsn:
            problems.append(("dsn", "required for backend postgres (dsn or dsn_file)"))
        if self.backend == "sqlite" and self.dsn:
            problems.append(("dsn", "only for backend postgres"))
        return problems


@dataclass
class WebConfig:
    max_body_bytes: Annotated[int, Ge(1)] = 10 * 1024 * 1024
    # Time allowed to receive a whole request body once its head is in, so a client
    # trickling a body cannot hold a connection and a handler for ever. Alertmanager's
    # own notification timeout is at least 10 s (its notify.MinTimeout); 30 s leaves a
    # slow link room for a 10 MiB webhook.
    body_read_timeout: Annotated[Duration, Gt(0)] = Duration(30)
    external_url: str = ""
    # The incidents page's path prefix; empty means the path of `external_url` (as in
    # Alertmanager's --web.route-prefix).
    route_prefix: str = ""
    session_ttl: Annotated[Duration, Gt(0)] = Duration(12 * 3600)


# RFC 2104 asks for an HMAC key at least as long as the hash output (32 bytes for
# SHA-256); a shorter one is easier to guess than the signature it makes.
MIN_ACTION_LINK_KEY_BYTES = 32


@dataclass
class ActionLinksConfig:
    """Signed ack/resolve links in notifications: the HMAC key (`key` or `key_file`;
    none means no links), how long a link works, and the URL the incidents page is
    reached at (default `web.external_url`)."""

    key: Secret | None = None
    ttl: Annotated[Duration, Gt(0)] = Duration(24 * 3600)
    base_url: str = ""

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if self.key is not None and len(self.key.reveal().encode()) < MIN_ACTION_LINK_KEY_BYTES:
            problems.append(("key", f"expected at least {MIN_ACTION_LINK_KEY_BYTES} bytes"))
        if self.base_url and not self.base_url.startswith(("https://", "http://")):
            problems.append(("base_url", "expected an http(s) URL"))
        return problems


@dataclass
class TwilioInboundConfig:
    """SMS replies: the twilio channel whose auth token signs Twilio's requests and whose
    recipients may reply, and the public URL Twilio posts to (the signature covers it;
    default: the URL the request arrived at)."""

    channel: Annotated[str, MinLen(1)]
    url: str = ""

    def validate(self) -> list[tuple[str, str]]:
        if self.url and not self.url.startswith(("https://", "http://")):
            return [("url", "expected an http(s) URL")]
        return []


@dataclass
class RawConfig:
    """The YAML file's top level, before channels are resolved."""

    # A channel's keys beyond name, type and rate_limit depend on its type, so channel
    # sections are read as plain mappings and validated by the channels layer.
    channels: list[dict[str, Any]] = field(default_factory=list)
    routes: list[RouteConfig] = field(default_factory=list)
    default_route: RouteConfig | None = None
    escalation_policies: list[EscalationPolicy] = field(default_factory=list)
    auth: AuthConfig = field(default_factory=AuthConfig)
    storm: StormConfig = field(default_factory=StormConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    web: WebConfig = field(default_factory=WebConfig)
    # Resolved incidents older than this are pruned; 0 would prune them at once, so a
    # positive duration is required (write e.g. 10y to keep them for good).
    retention: Annotated[Duration, Gt(0)] = Duration(30 * 86400)
    templates_dir: Path | None = None
    heartbeats: list[HeartbeatConfig] = field(default_factory=list)
    action_links: ActionLinksConfig = field(default_factory=ActionLinksConfig)
    twilio_inbound: TwilioInboundConfig | None = None
    # Grafana's base URL (e.g. https://grafana.example.com). The shipped rules' dashboard_url
    # annotations are paths (/d/<uid>/...); messages show this URL joined with the path,
    # or the path alone when it is empty. The one place the Grafana address is set.
    grafana_url: str = ""


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
    heartbeats: list[HeartbeatConfig] = field(default_factory=list)
    action_links: ActionLinksConfig = field(default_factory=ActionLinksConfig)
    twilio_inbound: TwilioInboundConfig | None = None
    grafana_url: str = ""
