"""Shared fixtures: real binaries (skipped when missing, a failure under CI=true) and free ports."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"

# Debian installs some binaries under names of its own.
_ALIASES = {
    "node_exporter": ["prometheus-node-exporter", "node_exporter"],
    "alertmanager": ["prometheus-alertmanager", "alertmanager"],
    "prometheus": ["prometheus"],
    "promtool": ["promtool"],
    "amtool": ["amtool"],
    "mtail": ["mtail"],
}
_PACKAGES = {
    "node_exporter": "prometheus-node-exporter",
    "alertmanager": "prometheus-alertmanager",
    "amtool": "prometheus-alertmanager",
    "promtool": "prometheus",
}


def in_ci() -> bool:
    """CI=true turns a missing binary from a skip into a failure."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def find_binary(name: str) -> str | None:
    """Path of a binary by its upstream name, trying Debian's names too."""
    for candidate in _ALIASES.get(name, [name]):
        path = shutil.which(candidate) or shutil.which(candidate, path="/usr/bin:/usr/sbin")
        if path:
            return path
    return None


def require_binary(name: str) -> str:
    """Return the binary's path; skip (or fail under CI) when it is not installed."""
    path = find_binary(name)
    if path is None:
        message = f"{name} is not installed (apt-get install {_PACKAGES.get(name, name)})"
        if in_ci():
            pytest.fail(message + " — required in CI")
        pytest.skip(message)
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def port() -> int:
    return free_port()
