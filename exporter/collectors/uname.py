"""uname: node_uname_info from the uname(2) system call."""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, register
from exporter.families import Family, gauge
from exporter.procfs import read_text

_LABELS = ["sysname", "release", "version", "machine", "nodename", "domainname"]


@register
class UnameCollector(Collector):
    """Kernel name, release, version, architecture, host and NIS domain name."""

    name = "uname"
    description = "uname(2) system information"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._domainname_path = str(self.paths.proc("sys/kernel/domainname"))
        # The answer changes only with the host name: one frozen family, rendered once.
        self._info: Family | None = None

    def _domainname(self) -> str:
        # os.uname() omits the NIS domain name; the kernel shows it here, per UTS namespace.
        try:
            return read_text(self._domainname_path).strip()
        except OSError:
            return "(none)"

    def collect(self) -> Iterable[Metric]:
        if not hasattr(os, "uname"):
            raise CollectorUnavailable("uname(2) is not available on this platform")
        u = os.uname()
        values = (u.sysname, u.release, u.version, u.machine, u.nodename, self._domainname())
        info = self._info
        if info is None or info.values[0][0] != values:
            info = gauge(
                "node_uname_info",
                "Labeled system information as provided by the uname system call.",
                labels=_LABELS,
            )
            info.add_metric(values, 1.0)
            self._info = info.freeze()
        yield info
