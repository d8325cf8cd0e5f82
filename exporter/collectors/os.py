"""os: node_os_info / node_os_version from os-release under the host's root."""

from __future__ import annotations

import datetime
import os
import re
import shlex
import threading
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, register
from exporter.families import Family, gauge
from exporter.procfs import read_text

OS_RELEASE_FILES = ("/etc/os-release", "/usr/lib/os-release")
_VERSION = re.compile(r"^[0-9]+\.?[0-9]*")
_INFO_KEYS = {
    "build_id": "BUILD_ID",
    "id": "ID",
    "id_like": "ID_LIKE",
    "image_id": "IMAGE_ID",
    "image_version": "IMAGE_VERSION",
    "name": "NAME",
    "pretty_name": "PRETTY_NAME",
    "variant": "VARIANT",
    "variant_id": "VARIANT_ID",
    "version": "VERSION",
    "version_codename": "VERSION_CODENAME",
    "version_id": "VERSION_ID",
}


def parse_os_release(text: str) -> dict[str, str]:
    """os-release(5) assignments, with shell quoting and escapes resolved."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, raw = line.partition("=")
        try:
            values[key.strip()] = "".join(shlex.split(raw, comments=False, posix=True))
        except ValueError:
            values[key.strip()] = raw.strip("\"'")
    return values


@register
class OSCollector(Collector):
    """Operating system identity and version from os-release."""

    name = "os"
    description = "OS release information from /etc/os-release"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        self._lock = threading.Lock()
        self._cached: tuple[str, int, dict[str, str]] | None = None
        self._built: tuple[dict[str, str], list[Family]] | None = None
        self._release_files = [str(self.paths.root(name)) for name in OS_RELEASE_FILES]

    def _release(self) -> dict[str, str]:
        """The parsed first os-release file found; re-read only when its mtime changes."""
        for path in self._release_files:
            try:
                mtime = os.stat(path).st_mtime_ns
            except FileNotFoundError:
                continue
            with self._lock:
                if self._cached and self._cached[0] == path and self._cached[1] == mtime:
                    return self._cached[2]
            values = parse_os_release(read_text(path))
            with self._lock:
                self._cached = (path, mtime, values)
            return values
        raise CollectorUnavailable("no os-release file found: " + ", ".join(OS_RELEASE_FILES))

    def collect(self) -> Iterable[Metric]:
        release = self._release()
        # The families change only when os-release does: built and frozen once per
        # version of the file, so they are also rendered once.
        built = self._built
        if built is None or built[0] is not release:
            built = self._built = (release, [f.freeze() for f in _families(release)])
        return built[1]


def _families(release: dict[str, str]) -> Iterable[Family]:
    """node_os_info, node_os_version and node_os_support_end_timestamp_seconds."""
    info = gauge(
        "node_os_info",
        "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, "
        "image_version, name, pretty_name, variant, variant_id, version, "
        "version_codename, version_id.",
        labels=list(_INFO_KEYS),
    )
    info.add_metric([release.get(key, "") for key in _INFO_KEYS.values()], 1.0)
    yield info
    match = _VERSION.match(release.get("VERSION_ID", ""))
    version = float(match.group(0)) if match else 0.0
    if version > 0:
        family = gauge(
            "node_os_version",
            "Metric containing the major.minor part of the OS version.",
            labels=["id", "id_like", "name"],
        )
        family.add_metric(
            [release.get("ID", ""), release.get("ID_LIKE", ""), release.get("NAME", "")],
            version,
        )
        yield family
    support_end = release.get("SUPPORT_END", "")
    if support_end:
        end = datetime.datetime.strptime(support_end, "%Y-%m-%d").replace(tzinfo=datetime.UTC)
        yield gauge(
            "node_os_support_end_timestamp_seconds",
            "Metric containing the end-of-life date timestamp of the OS.",
            value=end.timestamp(),
        )
