"""`collectors.forecast`: where Prometheus is, which series to read, how often to fit.

Every bound that keeps memory in check is here: `max_series` series of at most
`max_points` points (`history / step`) each.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from annotated_types import Ge, Gt, Interval, MinLen

from servicekit.values import Duration, Secret

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]*$")
# The seasonal models and spike detection: on the benchmark's series (tests/bench/
# bench_forecast.py) they find every injected anomaly with no false alarm, where the robust
# z-score and IQR fences, blind to seasons, find only those on the series without one.
DEFAULT_MODELS = ["holt_winters", "seasonal_naive", "spike"]


@dataclass
class TLSConfig:
    """`prometheus.tls`: how to check the Prometheus server (and present a client cert)."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    server_name: str | None = None
    insecure_skip_verify: bool = False

    def context(self) -> ssl.SSLContext:
        """A client context; raises OSError/ssl.SSLError on unreadable files."""
        ctx = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        if self.insecure_skip_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.cert_file is not None:
            key = str(self.key_file) if self.key_file is not None else None
            ctx.load_cert_chain(str(self.cert_file), key)
        return ctx

    def validate(self) -> list[tuple[str, str]]:
        if self.key_file is not None and self.cert_file is None:
            return [("key_file", "key_file needs cert_file")]
        try:
            self.context()
        except (OSError, ssl.SSLError) as exc:
            return [("cert_file" if self.cert_file else "ca_file", f"cannot load: {exc}")]
        return []


@dataclass
class BasicAuth:
    """`prometheus.basic_auth`."""

    username: Annotated[str, MinLen(1)]
    password: Secret


@dataclass
class PrometheusConfig:
    """`prometheus`: the server whose HTTP API the series are read from."""

    url: str = "http://127.0.0.1:9090"
    timeout: Annotated[Duration, Gt(0)] = Duration(30)
    bearer_token: Secret | None = None
    basic_auth: BasicAuth | None = None
    tls: TLSConfig = field(default_factory=TLSConfig)
    # A query_range answer larger than this is refused, not buffered.
    max_response_bytes: Annotated[int, Gt(0)] = 16 << 20

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        try:
            parts = urlsplit(self.url)
            parts.port  # noqa: B018 - raises on an invalid port
        except ValueError as exc:
            return [("url", f"invalid URL: {exc}")]
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            problems.append(("url", "expected an http:// or https:// URL"))
        if parts.username or parts.password:
            problems.append(("url", "put credentials in basic_auth, not in the URL"))
        if self.bearer_token is not None and self.basic_auth is not None:
            problems.append(("bearer_token", "use either bearer_token or basic_auth"))
        return problems


@dataclass
class SeriesConfig:
    """One series to forecast: a PromQL query returning exactly one series."""

    name: str  # the `series` label; bounded because it comes from this file
    query: Annotated[str, MinLen(1)]
    models: list[str] | None = None  # default: the section's `models`
    # The forecast-breach alert fires when a forecast crosses one of these.
    below: float | None = None
    above: float | None = None

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if not _NAME.match(self.name):
            problems.append(("name", "expected letters, digits and _ . : -"))
        if self.below is not None and self.above is not None and self.below >= self.above:
            problems.append(("below", "below must be less than above"))
        return problems


@dataclass
class ForecastConfig:
    """`collectors.forecast`."""

    prometheus: PrometheusConfig = field(default_factory=PrometheusConfig)
    series: list[SeriesConfig] = field(default_factory=list)
    models: list[Annotated[str, MinLen(1)]] = field(default_factory=lambda: list(DEFAULT_MODELS))
    step: Annotated[Duration, Gt(0)] = Duration(300)
    history: Annotated[Duration, Gt(0)] = Duration(14 * 86400)
    fit_every: Annotated[Duration, Gt(0)] = Duration(6 * 3600)
    infer_every: Annotated[Duration, Gt(0)] = Duration(300)
    horizons: list[Annotated[Duration, Gt(0)]] = field(
        default_factory=lambda: [Duration(6 * 3600), Duration(24 * 3600), Duration(48 * 3600)]
    )
    confidence: Annotated[float, Interval(gt=0.5, lt=1.0)] = 0.95
    # A series missing more than this share of its points is not fitted.
    max_missing_ratio: Annotated[float, Interval(ge=0.0, le=1.0)] = 0.2
    max_series: Annotated[int, Ge(1)] = 20
    max_points: Annotated[int, Ge(16)] = 12_000
    workers: Annotated[int, Interval(ge=1, le=8)] = 1

    @property
    def points(self) -> int:
        """Points per series read for a fit."""
        return int(self.history // self.step)

    def models_of(self, series: SeriesConfig) -> list[str]:
        """The models run on `series`."""
        return series.models if series.models is not None else self.models

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        names = [s.name for s in self.series]
        for dupe in sorted({n for n in names if names.count(n) > 1}):
            problems.append(("series", f"series name {dupe!r} is used twice"))
        if len(self.series) > self.max_series:
            problems.append(
                ("series", f"{len(self.series)} series, max_series is {self.max_series}")
            )
        if self.points > self.max_points:
            problems.append(
                (
                    "history",
                    f"history/step is {self.points} points, max_points is {self.max_points}",
                )
            )
        if self.points < 16:
            problems.append(("history", "history must hold at least 16 steps"))
        for i, horizon in enumerate(self.horizons):
            if horizon < self.step or horizon > self.history:
                problems.append((f"horizons[{i}]", "expected a duration from step to history"))
        if len(set(self.horizons)) != len(self.horizons):
            problems.append(("horizons", "a horizon is listed twice"))
        if self.infer_every > self.fit_every:
            problems.append(("infer_every", "infer_every must not exceed fit_every"))
        return problems
