"""selinux: whether SELinux is on, and its configured and current mode, as node_exporter.

SELinux is enabled when selinuxfs is mounted (its `enforce` file exists under sysfs) and
this process has a context other than `kernel`, as go-selinux decides it. Modes follow
go-selinux: 1 enforcing, 0 permissive, -1 disabled; the configured mode is `SELINUX=`
of /etc/selinux/config under rootfs.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, register
from exporter.families import gauge
from exporter.procfs import read_text

_MODES = {"enforcing": 1.0, "permissive": 0.0, "disabled": -1.0}


def config_mode(text: str) -> float:
    """The mode `SELINUX=` sets in /etc/selinux/config (-1 when it sets none)."""
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key.strip() == "SELINUX":
            return _MODES.get(value.strip().strip("\"'").lower(), -1.0)
    return -1.0


@register
class SelinuxCollector(Collector):
    """SELinux status: enabled, configured mode, current mode."""

    name = "selinux"
    description = "SELinux status from selinuxfs and /etc/selinux/config"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._enforce = str(self.paths.sys("fs/selinux/enforce"))
        self._context = str(self.paths.proc("self/attr/current"))
        self._config = str(self.paths.root("/etc/selinux/config"))

    def _current_mode(self) -> float | None:
        """1 or 0 from selinuxfs's enforce file; None when SELinux is not enabled."""
        try:
            enforce = read_text(self._enforce).strip()
            context = read_text(self._context).strip("\x00\n ")
        except OSError:
            return None
        if context in ("", "kernel"):
            return None
        return 1.0 if enforce == "1" else 0.0

    def collect(self) -> Iterable[Metric]:
        current = self._current_mode()
        yield gauge(
            "node_selinux_enabled",
            "SELinux is enabled, 1 is true, 0 is false",
            value=0.0 if current is None else 1.0,
        )
        if current is None:
            return
        try:
            configured = config_mode(read_text(self._config))
        except OSError:
            configured = -1.0
        yield gauge(
            "node_selinux_config_mode", "Configured SELinux enforcement mode", value=configured
        )
        yield gauge("node_selinux_current_mode", "Current SELinux enforcement mode", value=current)
