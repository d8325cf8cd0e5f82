"""X.509 certificate expiry from PEM/DER files, globs and directories.

A file is parsed again only when its inode, size or mtime changes; a file that could not be
read is retried every `retry_interval`, and each failed attempt counts once in
`tocsin_cert_read_errors_total`, so `increase()` keeps firing while a file stays broken.

A configured path, glob or directory that yields no file (a typo, a renamed directory, a
glob that stopped matching) would otherwise make its certificates' series vanish, and the
expiry alerts with them: `tocsin_cert_pattern_files{pattern}` says how many files each one
found (0 = none), and `certificate_path_unmatched` is logged when it drops to none
(`certificate_path_matched` when it finds files again), not on every collection.

Only regular files of at most `max_file_bytes` are read (`exporter.regularfile`): a FIFO,
device, socket or directory that a glob or directory yields is skipped, reported in
`tocsin_cert_file_skipped{path,reason}` and logged once, and the other files are served.
"""

from __future__ import annotations

import glob
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated

import structlog
from annotated_types import Ge, Gt
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.certs import CertificateError, CertInfo, parse_certificates
from exporter.collector import Collector, CollectorContext, register
from exporter.regularfile import Skipped, SkippedFiles, read_regular
from servicekit.values import Duration

log = structlog.get_logger(__name__)

_LABELS = ["path", "subject_cn", "issuer_cn", "serial"]


@dataclass
class CertificatesConfig:
    """`collectors.certificates`: which files to read."""

    paths: list[str] = field(default_factory=list)
    extensions: list[str] = field(default_factory=lambda: [".pem", ".crt", ".cer"])
    retry_interval: Annotated[Duration, Gt(0)] = Duration(300)
    max_files: Annotated[int, Ge(1)] = 1000
    # A CA bundle is a few hundred KiB; far more is not a certificate file.
    max_file_bytes: Annotated[int, Ge(1)] = 4 << 20

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        for i, p in enumerate(self.paths):
            if not p.startswith("/"):
                problems.append((f"paths[{i}]", f"expected an absolute path or glob, got {p!r}"))
        return problems


@dataclass
class _FileState:
    """What one certificate file held when last read. `key` (inode, size, mtime) says
    whether it changed since; a file that failed is read again after `retry_interval`."""

    key: tuple[int, int, int] | None = None
    certs: list[CertInfo] = field(default_factory=list)
    failed_at: float | None = None
    errors: int = 0
    skipped: Skipped | None = None


@register
class CertificatesCollector(Collector):
    """Expiry of certificates found in configured files, globs and directories."""

    name = "certificates"
    default_enabled = False
    description = "X.509 certificate expiry from PEM files, globs and directories"
    Config = CertificatesConfig
    config: CertificatesConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._files: dict[str, _FileState] = {}
        self._unmatched: dict[str, str] = {}
        self._over_limit = False
        self._skipped = SkippedFiles(self.name, "tocsin_cert_file_skipped")
        self._lock = threading.Lock()

    def _expand(self) -> tuple[list[str], dict[str, int]]:
        """Host paths (as configured, not as seen through --path.rootfs) of candidate files,
        and how many existing files each configured pattern yielded."""
        found: dict[str, None] = {}
        counts: dict[str, int] = {}
        unmatched: dict[str, str] = {}
        exts = tuple(e.lower() for e in self.config.extensions)
        root = str(self.paths.rootfs).rstrip("/")
        for pattern in self.config.paths:
            local = str(self.paths.root(pattern))
            magic = glob.has_magic(pattern)
            matches = sorted(glob.glob(local)) if magic else [local]
            count = 0
            why = "no file matches the glob" if magic else "no such file or directory"
            for match in matches:
                if os.path.isdir(match):
                    try:
                        entries = sorted(os.listdir(match))
                    except OSError as exc:
                        why = f"cannot list directory {match}: {exc.strerror or exc}"
                        continue
                    why = f"no file ending in {', '.join(exts)} in the directory"
                    for entry in entries:
                        full = os.path.join(match, entry)
                        # Not only regular files: the others are reported when skipped.
                        if entry.lower().endswith(exts):
                            found[full[len(root) :]] = None
                            count += 1
                else:
                    # A missing literal path is still read, so it counts read errors too.
                    found[match[len(root) :]] = None
                    if os.path.exists(match):
                        count += 1
            counts[pattern] = count
            if not count:
                unmatched[pattern] = why
        self._report_unmatched(unmatched)
        files = list(found)
        if len(files) > self.config.max_files and not self._over_limit:
            log.warning(
                "certificate_files_over_limit",
                found=len(files),
                max_files=self.config.max_files,
                hint="files past max_files are not read; raise max_files or narrow the paths",
            )
        self._over_limit = len(files) > self.config.max_files
        return files[: self.config.max_files], counts

    def _report_unmatched(self, unmatched: dict[str, str]) -> None:
        """Log a pattern when it stops yielding files (or why changes), and when it recovers."""
        for pattern, why in unmatched.items():
            if self._unmatched.get(pattern) != why:
                log.warning(
                    "certificate_path_unmatched",
                    pattern=pattern,
                    reason=why,
                    hint="no certificate is read from it, so no expiry alert can fire for it",
                )
        for pattern in self._unmatched.keys() - unmatched.keys():
            log.info("certificate_path_matched", pattern=pattern)
        self._unmatched = unmatched

    def _refresh(self, path: str, now: float) -> _FileState:
        state = self._files.setdefault(path, _FileState())
        local = str(self.paths.root(path))
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
        retry_due = state.failed_at is None or now - state.failed_at >= self.config.retry_interval
        if key == state.key and not retry_due:
            return state
        state.key = key
        state.skipped = None
        if error is None:
            try:
                data, _ = read_regular(local, self.config.max_file_bytes)
                state.certs = parse_certificates(data)
                state.failed_at = None
                return state
            except Skipped as exc:
                # Reported by SkippedFiles (once per change), not as a read error.
                state.certs, state.skipped = [], exc
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
            paths, pattern_counts = self._expand()
            wanted = set(paths)
            for gone in [p for p in self._files if p not in wanted]:
                if self._files[gone].errors == 0:
                    del self._files[gone]
            states = {p: self._refresh(p, now) for p in paths}
            errors = {p: s.errors for p, s in self._files.items()}
            for path, state in states.items():
                if state.skipped is not None:
                    self._skipped.skip(path, state.skipped)
            skipped = self._skipped.finish()

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
        pattern_files = GaugeMetricFamily(
            "tocsin_cert_pattern_files",
            "Files a configured certificate path, glob or directory yielded in the last "
            "collection; 0 means it matched nothing, so no certificate is watched for it.",
            labels=["pattern"],
        )
        for pattern, files in pattern_counts.items():
            pattern_files.add_metric([pattern], float(files))
        yield not_after
        yield not_before
        yield expired
        yield read_errors
        yield pattern_files
        yield skipped
