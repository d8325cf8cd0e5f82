"""Metrics from `*.prom` files in a directory, with node_exporter's textfile semantics.

Files are read at collection time, in name order. A file is all or nothing: one that cannot
be read or parsed, that carries client-side timestamps, that redefines a family with another
type or repeats a series already read, is skipped whole, logged, and turns
`node_textfile_scrape_error` to 1; the other files are still exported. Each file read
successfully gets `node_textfile_mtime_seconds{file}` (the full path, whole seconds, as
node_exporter 1.5 does). Families without HELP get "Metric read from PATH".

A `*.prom` entry that is not a regular file (a FIFO would block the open for good, a device
never ends) or is over `max_file_bytes` is never read: it is skipped like a broken file,
and also reported in `tocsin_textfile_skipped{file,reason}` and logged once when it starts
being skipped, instead of on every scrape.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated

import structlog
from annotated_types import Ge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from exporter.collector import Collector, CollectorContext, register
from exporter.regularfile import Skipped, SkippedFiles, read_regular

log = structlog.get_logger(__name__)


class TextfileError(Exception):
    """A file that cannot be exported (unreadable, malformed, unsupported content)."""


@dataclass
class TextfileConfig:
    """`collectors.textfile`: the directories holding `*.prom` files."""

    directory: str | None = None
    directories: list[str] = field(default_factory=list)
    max_file_bytes: Annotated[int, Ge(1)] = 64 << 20

    def all_directories(self) -> list[str]:
        """`directory` first, then `directories`, each once."""
        found = [self.directory] if self.directory else []
        return list(dict.fromkeys([*found, *self.directories]))

    def validate(self) -> list[tuple[str, str]]:
        if self.directory == "":
            return [("directory", "expected a directory path")]
        return []


@dataclass
class _Family:
    metric: Metric
    files: list[str]
    explicit_help: bool


def read_prom_file(path: str, max_bytes: int) -> tuple[list[Metric], float]:
    """Parse one file into families with samples; returns them and the file's mtime.

    Raises Skipped for what is not a regular file within `max_bytes` (never opened, or
    opened without blocking) and TextfileError for the rest.
    """
    try:
        data, st = read_regular(path, max_bytes)
    except OSError as exc:
        raise TextfileError(f"failed to read {path!r}: {exc.strerror}") from exc
    # fstat after reading, so a file replaced mid-read does not look fresh when broken.
    mtime = float(st.st_mtime_ns // 1_000_000_000)
    try:
        families = list(text_string_to_metric_families(data.decode("utf-8")))
    except (ValueError, UnicodeDecodeError, IndexError, KeyError) as exc:
        raise TextfileError(f"failed to parse textfile data from {path!r}: {exc}") from exc
    kept = [f for f in families if f.samples]
    for family in kept:
        if any(s.timestamp is not None for s in family.samples):
            raise TextfileError(
                f"textfile {path!r} contains unsupported client-side timestamps, "
                "skipping entire file"
            )
    return kept, mtime


@register
class TextfileCollector(Collector):
    """Exports metrics that other programs write to `*.prom` files."""

    name = "textfile"
    default_enabled = True
    description = "Metrics from *.prom files in a directory (node_exporter textfile)"
    Config = TextfileConfig
    config: TextfileConfig

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._skipped = SkippedFiles(self.name, "tocsin_textfile_skipped", label="file")

    def collect(self) -> Iterable[Metric]:
        families: dict[str, _Family] = {}
        series: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        mtimes: dict[str, float] = {}
        errored = False
        for directory in self.config.all_directories():
            try:
                names = sorted(os.listdir(directory))
            except OSError as exc:
                errored = True
                log.error("textfile_directory_unreadable", path=directory, error=exc.strerror)
                continue
            for name in names:
                if not name.endswith(".prom"):
                    continue
                path = os.path.join(directory, name)
                try:
                    parsed, mtime = read_prom_file(path, self.config.max_file_bytes)
                    _merge(families, series, parsed, path)
                except Skipped as exc:
                    errored = True
                    self._skipped.skip(path, exc)
                    continue
                except TextfileError as exc:
                    errored = True
                    log.error("textfile_failed", file=path, error=str(exc))
                    continue
                mtimes[path] = mtime
        for fam in families.values():
            if not fam.explicit_help:
                fam.metric.documentation = "Metric read from " + ", ".join(fam.files)
            yield fam.metric
        if mtimes:
            mtime_family = GaugeMetricFamily(
                "node_textfile_mtime_seconds",
                "Unixtime mtime of textfiles successfully read.",
                labels=["file"],
            )
            for path in sorted(mtimes):
                mtime_family.add_metric([path], mtimes[path])
            yield mtime_family
        yield self._skipped.finish()
        yield GaugeMetricFamily(
            "node_textfile_scrape_error",
            "1 if there was an error opening or reading a file, 0 otherwise",
            value=1.0 if errored else 0.0,
        )


def _merge(
    families: dict[str, _Family],
    series: set[tuple[str, tuple[tuple[str, str], ...]]],
    parsed: list[Metric],
    path: str,
) -> None:
    """Add one file's families, or raise (leaving everything untouched) if they conflict."""
    new_series = set()
    for fam in parsed:
        known = families.get(fam.name)
        if known is not None and known.metric.type != fam.type:
            raise TextfileError(
                f"{path!r}: {fam.name} is a {fam.type} here but a {known.metric.type} in "
                f"{known.files[0]!r}"
            )
        for s in fam.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            if key in series or key in new_series:
                raise TextfileError(f"{path!r}: series {s.name}{s.labels} was already read")
            new_series.add(key)
    series |= new_series
    for fam in parsed:
        known = families.get(fam.name)
        if known is None:
            metric = Metric(fam.name, fam.documentation, fam.type)
            families[fam.name] = known = _Family(metric, [], bool(fam.documentation))
        elif fam.documentation and not known.explicit_help:
            known.metric.documentation = fam.documentation
            known.explicit_help = True
        known.metric.samples.extend(fam.samples)
        if path not in known.files:
            known.files.append(path)
