"""filefd: allocated and maximum file handles from /proc/sys/fs/file-nr."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import gauge
from exporter.procfs import read_required


@register
class FilefdCollector(Collector):
    """Kernel file handle usage (allocated, maximum)."""

    name = "filefd"
    description = "file handle usage from /proc/sys/fs/file-nr"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._file_nr = str(self.paths.proc("sys/fs/file-nr"))

    def collect(self) -> Iterable[Metric]:
        allocated, _unused, maximum = read_required(self._file_nr).split()
        yield gauge(
            "node_filefd_allocated",
            "File descriptor statistics: allocated.",
            value=float(allocated),
        )
        yield gauge(
            "node_filefd_maximum", "File descriptor statistics: maximum.", value=float(maximum)
        )
