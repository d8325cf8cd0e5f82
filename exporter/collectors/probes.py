"""Blackbox-style probes (HTTP(S), TCP, TLS handshake), each on its own interval.

Probes run as asyncio tasks started by `start()`; `collect()` only reports the last result
of each, so a slow or hanging target never slows a scrape.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import structlog
from annotated_types import Ge, Gt, Interval
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.probing.connect import TLSOptions, build_ssl_context
from exporter.probing.http import HTTPRequest, probe_http
from exporter.probing.result import ProbeResult
from exporter.probing.tcp import probe_tcp
from servicekit.tasks import cancel_all
from servicekit.values import Duration, Secret

log = structlog.get_logger(__name__)

_NAME = re.compile(r"^[A-Za-z0-9_.:/-]+$")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


@dataclass
class TLSConfig:
    """`tls:` of a probe."""

    verify: bool = True
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    server_name: str | None = None

    def options(self) -> TLSOptions:
        return TLSOptions(
            verify=self.verify,
            ca_file=self.ca_file,
            cert_file=self.cert_file,
            key_file=self.key_file,
            server_name=self.server_name,
        )

    def validate(self) -> list[tuple[str, str]]:
        if self.key_file is not None and self.cert_file is None:
            return [("key_file", "key_file needs cert_file")]
        try:
            build_ssl_context(self.options())
        except (OSError, ssl.SSLError) as exc:
            where = "ca_file" if self.ca_file and not self.cert_file else "cert_file"
            return [(where, f"cannot load TLS files: {exc}")]
        return []


@dataclass
class ProbeConfig:
    """One probe."""

    name: str
    target: str
    type: Literal["http", "tcp", "tls"] = "http"
    interval: Annotated[Duration, Gt(0)] = Duration(30)
    timeout: Duration | None = None
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    bearer_token: Secret | None = None
    body: str = ""
    valid_status_codes: list[Annotated[int, Interval(ge=100, le=599)]] = field(default_factory=list)
    body_regex: re.Pattern[str] | None = None
    fail_if_body_matches: re.Pattern[str] | None = None
    max_body_bytes: Annotated[int, Ge(0)] = 1 << 20
    send: str = ""
    expect: re.Pattern[str] | None = None
    tls: TLSConfig = field(default_factory=TLSConfig)

    @property
    def effective_timeout(self) -> float:
        """The configured timeout, or 10s capped at the interval."""
        return float(self.timeout) if self.timeout is not None else min(10.0, self.interval)

    def host_port(self) -> tuple[str, int]:
        """Host and port of a tcp/tls target (`host:port`, `[v6]:port`)."""
        parts = urlsplit(f"//{self.target}")
        if parts.port is None or not parts.hostname:
            raise ValueError(f"expected host:port, got {self.target!r}")
        return parts.hostname, parts.port

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if not _NAME.match(self.name):
            problems.append(("name", "expected letters, digits and _ . : / -"))
        if self.type == "http":
            try:
                url = urlsplit(self.target)
                url.port  # noqa: B018 - raises on an invalid port
            except ValueError as exc:
                problems.append(("target", f"invalid URL: {exc}"))
            else:
                if url.scheme not in {"http", "https"} or not url.hostname:
                    problems.append(("target", "expected an http:// or https:// URL"))
            if not _TOKEN.match(self.method):
                problems.append(("method", f"invalid HTTP method {self.method!r}"))
            for k, v in self.headers.items():
                if not _TOKEN.match(k) or "\r" in v or "\n" in v:
                    problems.append((f"headers.{k}", "invalid header name or value"))
            if self.send or self.expect:
                problems.append(("send", "send/expect apply to tcp and tls probes"))
        else:
            try:
                self.host_port()
            except ValueError as exc:
                problems.append(("target", str(exc)))
            http_only = (self.body_regex, self.fail_if_body_matches, self.valid_status_codes)
            if any(http_only) or self.body or self.headers:
                problems.append(("", "status, body and header options apply to http probes"))
        if not 0 < self.effective_timeout <= self.interval:
            problems.append(("timeout", "expected a positive duration no longer than interval"))
        return problems


@dataclass
class ProbesConfig:
    """`collectors.probes`."""

    probes: list[ProbeConfig] = field(default_factory=list)

    def validate(self) -> list[tuple[str, str]]:
        names = [p.name for p in self.probes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        return [("probes", f"probe name {n!r} is used twice") for n in dupes]


async def run_probe(probe: ProbeConfig, tls: ssl.SSLContext | None) -> ProbeResult:
    """One run of one probe, bounded by its timeout; failures become a result, never raise."""
    result = ProbeResult()
    try:
        async with asyncio.timeout(probe.effective_timeout):
            if probe.type == "http":
                headers = dict(probe.headers)
                if probe.bearer_token is not None:
                    headers["Authorization"] = f"Bearer {probe.bearer_token.reveal()}"
                req = HTTPRequest(
                    url=probe.target,
                    method=probe.method,
                    headers=headers,
                    body=probe.body.encode(),
                    valid_status_codes=probe.valid_status_codes,
                    body_regex=probe.body_regex,
                    fail_if_body_matches=probe.fail_if_body_matches,
                    max_body_bytes=probe.max_body_bytes,
                )
                await probe_http(req, result, tls, probe.tls.server_name)
            else:
                host, port = probe.host_port()
                await probe_tcp(
                    host,
                    port,
                    result,
                    tls=tls if probe.type == "tls" else None,
                    server_name=probe.tls.server_name,
                    send=probe.send.encode(),
                    expect=probe.expect,
                )
    except TimeoutError:
        result.success = False
        result.error = f"timed out after {probe.effective_timeout:g}s"
    except Exception as exc:  # every failure of the target is a result
        result.success = False
        result.error = _describe(exc)
    return result


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]


@register
class ProbesCollector(Collector):
    """Reports the last result of each configured probe."""

    name = "probes"
    default_enabled = False
    description = "HTTP(S), TCP and TLS probes in the background (blackbox style)"
    Config = ProbesConfig
    config: ProbesConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._results: dict[str, ProbeResult] = {}
        self._lock = threading.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    async def _loop(self, probe: ProbeConfig) -> None:
        tls: ssl.SSLContext | None = None
        wants_tls = probe.type == "tls" or probe.target.startswith("https:")
        last_error: str | None = None
        while True:
            if wants_tls and tls is None:
                # Files checked at config time may be gone; retried every interval.
                try:
                    tls = build_ssl_context(probe.tls.options())
                except (OSError, ssl.SSLError) as exc:
                    result = ProbeResult(error=f"cannot load TLS files: {exc}")
            if tls is not None or not wants_tls:
                result = await run_probe(probe, tls)
            with self._lock:
                self._results[probe.name] = result
            if result.error != last_error:
                if result.error:
                    log.warning("probe_failed", probe=probe.name, error=result.error)
                elif last_error is not None:
                    log.info("probe_recovered", probe=probe.name)
                last_error = result.error
            await asyncio.sleep(probe.interval)

    async def start(self) -> None:
        for probe in self.config.probes:
            self._tasks.append(asyncio.create_task(self._loop(probe), name=f"probe-{probe.name}"))

    async def stop(self) -> None:
        await cancel_all(self._tasks)
        self._tasks.clear()

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            results = dict(self._results)
        success = GaugeMetricFamily(
            "tocsin_probe_success", "1 when the last probe run succeeded.", labels=["probe"]
        )
        duration = GaugeMetricFamily(
            "tocsin_probe_duration_seconds",
            "Duration of each phase of the last probe run.",
            labels=["probe", "phase"],
        )
        status = GaugeMetricFamily(
            "tocsin_probe_http_status_code",
            "HTTP status code of the last probe run (0: no response).",
            labels=["probe"],
        )
        not_after = GaugeMetricFamily(
            "tocsin_probe_tls_cert_not_after_timestamp_seconds",
            "notAfter (Unix time) of the certificate the target presented.",
            labels=["probe"],
        )
        types = {p.name: p.type for p in self.config.probes}
        for name, result in sorted(results.items()):
            success.add_metric([name], 1.0 if result.success else 0.0)
            for phase, seconds in result.phases.items():
                duration.add_metric([name, phase], seconds)
            if types.get(name) == "http":
                status.add_metric([name], float(result.status_code or 0))
            if result.cert_not_after is not None:
                not_after.add_metric([name], result.cert_not_after)
        yield success
        yield duration
        yield status
        yield not_after
