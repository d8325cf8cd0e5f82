"""Shared fixtures: real binaries (skipped when missing, a failure under CI=true), fixture
paths, a free port, a self-signed certificate. Processes are started by tests/procs.py."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.certs import write_localhost_cert
from tests.integration.receiver_harness import BACKEND
from tests.postgres import Cluster, find_pg_binary
from tests.procs import REPO, free_port

FIXTURES = REPO / "tests" / "fixtures"
# The node_exporter collectors tocsin reimplements, by node_exporter's names.
SYSTEM_COLLECTORS = (
    "cpu",
    "meminfo",
    "loadavg",
    "filesystem",
    "diskstats",
    "netdev",
    "stat",
    "uname",
    "os",
    "time",
    "filefd",
    "vmstat",
    "pressure",
    "netclass",
    # The hardware collectors (watchdog is left out: Debian's node_exporter 1.5 lacks it).
    "cpufreq",
    "dmi",
    "edac",
    "hwmon",
    "nvme",
    "powersupplyclass",
    "rapl",
    "thermal_zone",
)

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
    "wrk": "wrk",
    "amtool": "prometheus-alertmanager",
    "promtool": "prometheus",
    "dbus-daemon": "dbus-daemon",
    "systemd-analyze": "systemd",
    "chromedriver": "chromium-driver",
}


# The Accept header Prometheus 2.42 sends on every scrape (OpenMetrics preferred).
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)


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


@pytest.fixture
def port() -> int:
    return free_port()


def self_signed_cert(directory: Path, name: str = "localhost") -> tuple[Path, Path]:
    """Write a self-signed certificate for localhost/127.0.0.1 and its key; (cert, key)."""
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    write_localhost_cert(cert_path, key_path, name)
    return cert_path, key_path


def require_postgres() -> None:
    """Skip the test when PostgreSQL's server binaries are missing (fail it in CI)."""
    for name in ("initdb", "pg_ctl"):
        if find_pg_binary(name) is None:
            message = f"{name} is not installed (apt-get install postgresql)"
            if in_ci():
                pytest.fail(message + " — required in CI")
            pytest.skip(message)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One throwaway PostgreSQL server for the whole session (see tests/postgres.py)."""
    require_postgres()
    cluster = Cluster()
    yield cluster
    cluster.stop()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every receiver integration test (a module that starts `ReceiverProcess`) on
    both storage backends, except those marked `sqlite_only` or `own_backend` (a reason
    each; the latter configure their storage themselves). Parametrised per module, so
    a module's SQLite tests run before its PostgreSQL ones and a module-scoped receiver
    (see `module_backend`) is started once for each backend."""
    if "backend_param" not in metafunc.fixturenames:
        return
    in_suite = Path(str(metafunc.definition.path)).parent.name == "integration"
    if not in_suite or not hasattr(metafunc.module, "ReceiverProcess"):
        return
    if metafunc.definition.get_closest_marker("own_backend") is not None:
        return
    params = ["sqlite"]
    if metafunc.definition.get_closest_marker("sqlite_only") is None:
        params.append("postgres")
    metafunc.parametrize("backend_param", params, indirect=True, scope="module")


@pytest.fixture(scope="module")
def backend_param(request: pytest.FixtureRequest) -> str:
    """The backend this module's tests are parametrised to (`sqlite` when they are not)."""
    return str(getattr(request, "param", "sqlite"))


@contextlib.contextmanager
def using_backend(name: str, dsn: str | None) -> Iterator[None]:
    """Receivers constructed inside start on `name` (at `dsn` for PostgreSQL)."""
    saved = BACKEND.name, BACKEND.dsn
    BACKEND.name, BACKEND.dsn = name, dsn
    try:
        yield
    finally:
        BACKEND.name, BACKEND.dsn = saved


@pytest.fixture(scope="module")
def module_backend(backend_param: str, request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """For a module-scoped receiver: the backend and, on PostgreSQL, a database of its
    own for the module (construct the receiver inside `using_backend(*module_backend)`)."""
    if backend_param != "postgres":
        return backend_param, None
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    return backend_param, cluster.create_database()


@pytest.fixture(autouse=True)
def storage_backend(backend_param: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """The storage backend of the receivers this test starts: `sqlite` unless the test
    is parametrised to `postgres`, which gets a fresh database of the session cluster."""
    if backend_param != "postgres":
        yield backend_param
        return
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    with using_backend(backend_param, cluster.create_database()):
        yield backend_param
