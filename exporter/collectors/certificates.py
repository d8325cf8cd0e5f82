"""X.509 certificate expiry from PEM/DER files, globs and directories.

A file is parsed again only when its inode, size or mtime changes; a file that could not be
read is retried every `retry_interval`, and each failed attempt counts once in
`tocsin_cert_read_errors_total`, so `increase()` keeps firing while a file stays broken.
"""

from __future__ import annotations

import glob
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.certs import CertificateError, CertInfo, parse_certificates
from exporter.collector import Collector, CollectorContext, register
from exporter.confload import Duration

log = structlog.get_logger(__name__)

_LABELS = ["path", "subject_cn", "issuer_cn", "serial"]


@dataclass
class CertificatesConfig:
    """`collectors.certificates`: which files to read."""

    paths: list[str] = field(default_factory=list)
    extensions: list[str] = field(default_factory=lambda: [".pem", ".crt", ".cer"])
    retry_interval: Duration = Duration(300)
    max_files: int = 1000

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        for i, p in enumerate(self.paths):
            if not p.startswith("/"):
                problems.append((f"paths[{i}]", f"expected an absolute path or glob, got {p!r}"))
        if self.max_files < 1:
            problems.append(("max_files", "expected a positive integer"))
        if self.retry_interval <= 0:
            problems.append(("retry_interval", "expected a positive duration"))
        return problems


@dataclass
class _FileState:
    key: tuple[int, int, int] | None = None
    certs: list[CertInfo] = field(default_factory=list)
    failed_at: float | None = None
    errors: int = 0


@register
class CertificatesCollector(Collector):
    """Expiry of certificates found in configured files, globs and directories."""

    name = "certificates"
    default_enabled = False
    description = "X.509 certificate expiry from PEM files, globs and directories"
    Config = CertificatesConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self.cfg: CertificatesConfig = self.config or CertificatesConfig()
        self._files: dict[str, _FileState] = {}
        self._lock = threading.Lock()

    def _expand(self) -> list[str]:
        """Host paths (as configured, not as seen through --path.rootfs) of candidate files."""
        found: dict[str, None] = {}
        exts = tuple(e.lower() for e in self.cfg.extensions)
        root = str(self.paths.rootfs).rstrip("/")
        for pattern in self.cfg.paths:
            local = str(self.paths.root(pattern))
            matches = sorted(glob.glob(local)) if glob.has_magic(pattern) else [local]
            for match in matches:
                if os.path.isdir(match):
                    try:
                        entries = sorted(os.listdir(match))
                    except OSError as exc:
                        log.warning("certificate_dir_unreadable", path=match, error=str(exc))
                        continue
                    for entry in entries:
                        full = os.path.join(match, entry)
                        if entry.lower().endswith(exts) and os.path.isfile(full):
                            found[full[len(root) :]] = None
                else:
                    found[match[len(root) :]] = None
        return list(found)[: self.cfg.max_files]

    def _refresh(self, path: str, now: float) -> _FileState:
        state = self._files.setdefault(path, _FileState())
        local = self.paths.root(path)
        try:
            st = os.stat(local)
            key = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError as exc:
            key = None
            error: str | None = exc.strerror or str(exc)
        else:
            error = None
        unchanged = key is not None and key == state.key
        if unchanged and state.failed_at is None:
            return state
        retry_due = state.failed_at is None or now - state.failed_at >= self.cfg.retry_interval
        if key == state.key and not retry_due:
            return state
        state.key = key
        if error is None:
            try:
                state.certs = parse_certificates(Path(local).read_bytes())
                state.failed_at = None
                return state
            except OSError as exc:
                error = exc.strerror or str(exc)
            except CertificateError as exc:
                error = str(exc)
        state.certs = []
        state.failed_at = now
        state.errors += 1
        log.warning("certificate_read_failed", path=path, error=error)
        return state

    def collect(self) -> Iterable[Metric]:
        now = time.time()
        with self._lock:
            paths = self._expand()
            wanted = set(paths)
            for gone in [p for p in self._files if p not in wanted]:
                if self._files[gone].errors == 0:
                    del self._files[gone]
            states = {p: self._refresh(p, now) for p in paths}
            errors = {p: s.errors for p, s in self._files.items()}

        not_after = GaugeMetricFamily(
            "tocsin_cert_not_after_timestamp_seconds",
            "Unix time after which the certificate is no longer valid.",
            labels=_LABELS,
        )
        not_before = GaugeMetricFamily(
            "tocsin_cert_not_before_timestamp_seconds",
            "Unix time before which the certificate is not yet valid.",
            labels=_LABELS,
        )
        expired = GaugeMetricFamily(
            "tocsin_cert_expired",
            "1 when the certificate's notAfter is in the past.",
            labels=_LABELS,
        )
        read_errors = CounterMetricFamily(
            "tocsin_cert_read_errors_total",
            "Failed attempts to read or parse a certificate file.",
            labels=["path"],
        )
        for path, state in states.items():
            seen: set[tuple[str, ...]] = set()
            for cert in state.certs:
                labels = [path, cert.subject_cn, cert.issuer_cn, cert.serial]
                if tuple(labels) in seen:
                    continue
                seen.add(tuple(labels))
                not_after.add_metric(labels, cert.not_after)
                not_before.add_metric(labels, cert.not_before)
                expired.add_metric(labels, 1.0 if cert.not_after < now else 0.0)
        for path, count in sorted(errors.items()):
            read_errors.add_metric([path], float(count))
        yield not_after
        yield not_before
        yield expired
        yield read_errors
