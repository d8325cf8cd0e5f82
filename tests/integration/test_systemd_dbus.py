"""systemd collector over a real D-Bus: a private dbus-daemon with tests/fake_systemd.py
serving org.freedesktop.systemd1, read by the collector in-process and by the exporter."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exporter.collector import CollectorContext, CollectorUnavailable
from exporter.collectors.systemd import SystemdCollector, SystemdConfig
from exporter.config import load_config
from exporter.discovery import available
from servicekit.problems import ConfigError
from tests.conftest import require_binary
from tests.dbus_bus import fake_systemd, private_bus
from tests.metrics import fetch_metrics, parse_series, scrape
from tests.procs import REPO, free_port, node_exporter_args, run_exporter, running
from tests.registry import exposition

ALL_GROUPS = SystemdConfig(
    enable_task_metrics=True, enable_restarts_metrics=True, enable_start_time_metrics=True
)


@pytest.fixture(scope="module")
def bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with private_bus(tmp_path_factory.mktemp("dbus")) as address, fake_systemd(address):
        yield address


def _collect(address: str, monkeypatch: pytest.MonkeyPatch, config: SystemdConfig) -> str:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)
    return exposition(SystemdCollector(CollectorContext(config=config)))


EXPECTED_ALL = """\
# HELP node_systemd_version Detected systemd version
# TYPE node_systemd_version gauge
node_systemd_version{version="252.22-1~deb12u1"} 252.22
# HELP node_systemd_virtualization_info Detected virtualization technology
# TYPE node_systemd_virtualization_info gauge
node_systemd_virtualization_info{virtualization_type="kvm"} 1.0
# HELP node_systemd_units Summary of systemd unit states
# TYPE node_systemd_units gauge
node_systemd_units{state="active"} 7.0
node_systemd_units{state="activating"} 1.0
node_systemd_units{state="deactivating"} 0.0
node_systemd_units{state="inactive"} 2.0
node_systemd_units{state="failed"} 1.0
node_systemd_units{state="reloading"} 1.0
# HELP node_systemd_unit_state Systemd unit
# TYPE node_systemd_unit_state gauge
node_systemd_unit_state{name="ssh.service",state="active",type="notify"} 1.0
node_systemd_unit_state{name="ssh.service",state="activating",type="notify"} 0.0
node_systemd_unit_state{name="ssh.service",state="deactivating",type="notify"} 0.0
node_systemd_unit_state{name="ssh.service",state="inactive",type="notify"} 0.0
node_systemd_unit_state{name="ssh.service",state="failed",type="notify"} 0.0
node_systemd_unit_state{name="cron.service",state="active",type="simple"} 1.0
node_systemd_unit_state{name="cron.service",state="activating",type="simple"} 0.0
node_systemd_unit_state{name="cron.service",state="deactivating",type="simple"} 0.0
node_systemd_unit_state{name="cron.service",state="inactive",type="simple"} 0.0
node_systemd_unit_state{name="cron.service",state="failed",type="simple"} 0.0
node_systemd_unit_state{name="nginx.service",state="active",type="forking"} 0.0
node_systemd_unit_state{name="nginx.service",state="activating",type="forking"} 0.0
node_systemd_unit_state{name="nginx.service",state="deactivating",type="forking"} 0.0
node_systemd_unit_state{name="nginx.service",state="inactive",type="forking"} 0.0
node_systemd_unit_state{name="nginx.service",state="failed",type="forking"} 1.0
node_systemd_unit_state{name="backup.service",state="active",type="oneshot"} 0.0
node_systemd_unit_state{name="backup.service",state="activating",type="oneshot"} 0.0
node_systemd_unit_state{name="backup.service",state="deactivating",type="oneshot"} 0.0
node_systemd_unit_state{name="backup.service",state="inactive",type="oneshot"} 1.0
node_systemd_unit_state{name="backup.service",state="failed",type="oneshot"} 0.0
node_systemd_unit_state{name="getty@tty1.service",state="active",type="idle"} 0.0
node_systemd_unit_state{name="getty@tty1.service",state="activating",type="idle"} 1.0
node_systemd_unit_state{name="getty@tty1.service",state="deactivating",type="idle"} 0.0
node_systemd_unit_state{name="getty@tty1.service",state="inactive",type="idle"} 0.0
node_systemd_unit_state{name="getty@tty1.service",state="failed",type="idle"} 0.0
node_systemd_unit_state{name="php-fpm.service",state="active",type="notify"} 0.0
node_systemd_unit_state{name="php-fpm.service",state="activating",type="notify"} 0.0
node_systemd_unit_state{name="php-fpm.service",state="deactivating",type="notify"} 0.0
node_systemd_unit_state{name="php-fpm.service",state="inactive",type="notify"} 0.0
node_systemd_unit_state{name="php-fpm.service",state="failed",type="notify"} 0.0
node_systemd_unit_state{name="apt-daily.timer",state="active",type=""} 1.0
node_systemd_unit_state{name="apt-daily.timer",state="activating",type=""} 0.0
node_systemd_unit_state{name="apt-daily.timer",state="deactivating",type=""} 0.0
node_systemd_unit_state{name="apt-daily.timer",state="inactive",type=""} 0.0
node_systemd_unit_state{name="apt-daily.timer",state="failed",type=""} 0.0
node_systemd_unit_state{name="dbus.socket",state="active",type=""} 1.0
node_systemd_unit_state{name="dbus.socket",state="activating",type=""} 0.0
node_systemd_unit_state{name="dbus.socket",state="deactivating",type=""} 0.0
node_systemd_unit_state{name="dbus.socket",state="inactive",type=""} 0.0
node_systemd_unit_state{name="dbus.socket",state="failed",type=""} 0.0
# HELP node_systemd_unit_start_time_seconds Start time of the unit since unix epoch in seconds.
# TYPE node_systemd_unit_start_time_seconds gauge
node_systemd_unit_start_time_seconds{name="ssh.service"} 1.764620000123456e+09
node_systemd_unit_start_time_seconds{name="cron.service"} 1.7646199905e+09
node_systemd_unit_start_time_seconds{name="nginx.service"} 0.0
node_systemd_unit_start_time_seconds{name="backup.service"} 0.0
node_systemd_unit_start_time_seconds{name="getty@tty1.service"} 0.0
node_systemd_unit_start_time_seconds{name="php-fpm.service"} 0.0
node_systemd_unit_start_time_seconds{name="apt-daily.timer"} 1.76461998e+09
node_systemd_unit_start_time_seconds{name="dbus.socket"} 1.764619979e+09
# HELP node_systemd_unit_tasks_current Current number of tasks per Systemd unit
# TYPE node_systemd_unit_tasks_current gauge
node_systemd_unit_tasks_current{name="ssh.service"} 1.0
node_systemd_unit_tasks_current{name="cron.service"} 1.0
node_systemd_unit_tasks_current{name="getty@tty1.service"} 0.0
node_systemd_unit_tasks_current{name="php-fpm.service"} 3.0
# HELP node_systemd_unit_tasks_max Maximum number of tasks per Systemd unit
# TYPE node_systemd_unit_tasks_max gauge
node_systemd_unit_tasks_max{name="ssh.service"} 4915.0
node_systemd_unit_tasks_max{name="nginx.service"} 4915.0
node_systemd_unit_tasks_max{name="backup.service"} 4915.0
node_systemd_unit_tasks_max{name="getty@tty1.service"} 4915.0
node_systemd_unit_tasks_max{name="php-fpm.service"} 4915.0
# HELP node_systemd_service_restart_total Service unit count of Restart triggers
# TYPE node_systemd_service_restart_total counter
node_systemd_service_restart_total{name="ssh.service"} 2.0
node_systemd_service_restart_total{name="cron.service"} 0.0
node_systemd_service_restart_total{name="nginx.service"} 5.0
node_systemd_service_restart_total{name="backup.service"} 0.0
node_systemd_service_restart_total{name="getty@tty1.service"} 0.0
node_systemd_service_restart_total{name="php-fpm.service"} 1.0
# HELP node_systemd_timer_last_trigger_seconds Seconds since epoch of last trigger.
# TYPE node_systemd_timer_last_trigger_seconds gauge
node_systemd_timer_last_trigger_seconds{name="apt-daily.timer"} 1.76459040025e+09
# HELP node_systemd_socket_accepted_connections_total Total number of accepted socket connections
# TYPE node_systemd_socket_accepted_connections_total counter
node_systemd_socket_accepted_connections_total{name="dbus.socket"} 12.0
# HELP node_systemd_socket_current_connections Current number of socket connections
# TYPE node_systemd_socket_current_connections gauge
node_systemd_socket_current_connections{name="dbus.socket"} 1.0
# HELP node_systemd_socket_refused_connections_total Total number of refused socket connections
# TYPE node_systemd_socket_refused_connections_total gauge
node_systemd_socket_refused_connections_total{name="dbus.socket"} 0.0
# HELP node_systemd_system_running Whether the system is operational (see 'systemctl is-system-running')
# TYPE node_systemd_system_running gauge
node_systemd_system_running 0.0
"""  # noqa: E501


def test_every_metric_group_over_dbus_is_exact(bus: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _collect(bus, monkeypatch, ALL_GROUPS) == EXPECTED_ALL


def test_defaults_leave_out_node_exporters_optional_groups(
    bus: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _collect(bus, monkeypatch, SystemdConfig())
    names = set(re.findall(r"^# TYPE (\S+)", text, re.MULTILINE))
    assert names == {
        "node_systemd_version",
        "node_systemd_virtualization_info",
        "node_systemd_units",
        "node_systemd_unit_state",
        "node_systemd_timer_last_trigger_seconds",
        "node_systemd_socket_accepted_connections_total",
        "node_systemd_socket_current_connections",
        "node_systemd_socket_refused_connections_total",
        "node_systemd_system_running",
    }


def test_default_exclude_drops_mounts_devices_slices_and_unloaded_units(
    bus: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _collect(bus, monkeypatch, SystemdConfig())
    reported = set(re.findall(r'node_systemd_unit_state\{name="([^"]+)"', text))
    assert reported == {
        "ssh.service",
        "cron.service",
        "nginx.service",
        "backup.service",
        "getty@tty1.service",
        "php-fpm.service",
        "apt-daily.timer",
        "dbus.socket",
    }


def test_include_and_exclude_both_apply_to_the_whole_name(
    bus: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = SystemdConfig(
        unit_include=re.compile(r".+\.(service|mount)"), unit_exclude=re.compile("ssh")
    )
    text = _collect(bus, monkeypatch, config)
    reported = set(re.findall(r'node_systemd_unit_state\{name="([^"]+)"', text))
    # "ssh" does not match all of "ssh.service", so ssh stays; the mount gets its fs type.
    assert "ssh.service" in reported and "apt-daily.timer" not in reported
    assert 'node_systemd_unit_state{name="home.mount",state="active",type="ext4"} 1.0' in text
    assert "node_systemd_socket" not in text


def test_no_system_bus_is_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    address = f"unix:path={tmp_path / 'no-such-socket'}"
    with pytest.raises(CollectorUnavailable, match="no system D-Bus"):
        _collect(address, monkeypatch, SystemdConfig())


def test_a_bus_without_systemd_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (
        private_bus(tmp_path) as address,
        pytest.raises(CollectorUnavailable, match="systemd does not answer"),
    ):
        _collect(address, monkeypatch, SystemdConfig())


def test_exporter_serves_systemd_from_the_bus(bus: str, tmp_path: Path) -> None:
    config = tmp_path / "exporter.yml"
    config.write_text(
        "collectors:\n  systemd:\n    enable_restarts_metrics: true\n"
        "    enable_start_time_metrics: true\n    unit_exclude: 'nginx.*'\n"
    )
    args = ["--collector.disable-defaults", "--collector.systemd", f"--config.file={config}"]
    with run_exporter(args, tmp_path, env={"DBUS_SYSTEM_BUS_ADDRESS": bus}) as proc:
        _, found = scrape(proc.port)
    assert found[("tocsin_exporter_collector_success", (("collector", "systemd"),))] == 1.0
    assert found[("node_systemd_service_restart_total", (("name", "ssh.service"),))] == 2.0
    start = found[("node_systemd_unit_start_time_seconds", (("name", "ssh.service"),))]
    assert start == 1764620000.123456
    assert not any(dict(labels).get("name") == "nginx.service" for _, labels in found)


def test_exporter_without_a_system_bus_serves_the_rest(tmp_path: Path) -> None:
    env = {"DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path / 'absent'}"}
    config = tmp_path / "exporter.yml"
    config.write_text("global: {min_interval: 0s}\n")  # every scrape collects afresh
    args = [
        "--collector.disable-defaults",
        "--collector.systemd",
        "--collector.loadavg",
        f"--config.file={config}",
    ]
    with run_exporter(args, tmp_path, env=env) as proc:
        for _ in range(3):
            _, found = scrape(proc.port)
        log = proc.log()
    assert found[("tocsin_exporter_collector_success", (("collector", "systemd"),))] == 0.0
    assert found[("tocsin_exporter_collector_success", (("collector", "loadavg"),))] == 1.0
    assert ("node_load1", ()) in found
    assert log.count("collector_unavailable") == 1, log
    assert "Traceback" not in log


def test_a_bad_unit_pattern_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "exporter.yml"
    path.write_text("collectors:\n  systemd: {unit_include: '((', enable_task_metrics: maybe}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, available())
    text = str(err.value)
    assert "collectors.systemd.unit_include" in text
    assert "collectors.systemd.enable_task_metrics" in text


def test_same_series_as_node_exporter_on_the_same_bus(bus: str, tmp_path: Path) -> None:
    # Debian's node_exporter 1.5 reads the same fake systemd; every series must agree, but
    # node_systemd_virtualization_info (node_exporter 1.10.0, #3254), which 1.5 lacks.
    node_exporter = require_binary("node_exporter")
    env = {"DBUS_SYSTEM_BUS_ADDRESS": bus}
    groups = ("enable-task-metrics", "enable-restarts-metrics", "enable-start-time-metrics")
    port = free_port()
    theirs_args = node_exporter_args(
        node_exporter,
        port,
        ["systemd"],
        "--web.disable-exporter-metrics",
        # Upstream's default exclude; Debian's adds `target`.
        r"--collector.systemd.unit-exclude=.+\.(automount|device|mount|scope|slice)",
        *(f"--collector.systemd.{group}" for group in groups),
    )
    with running(theirs_args, tmp_path / "node_exporter.log", port=port, cwd=REPO, env=env):
        theirs = parse_series(fetch_metrics(port))
    config = tmp_path / "exporter.yml"
    config.write_text(
        "collectors:\n  systemd:\n"
        + "".join(f"    {group.replace('-', '_')}: true\n" for group in groups)
    )
    args = ["--collector.disable-defaults", "--collector.systemd", f"--config.file={config}"]
    with run_exporter(args, tmp_path, env=env) as proc:
        ours = parse_series(fetch_metrics(proc.port))

    def systemd(found: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict[Any, float]:
        return {k: v for k, v in found.items() if k[0].startswith("node_systemd_")}

    ours_systemd = systemd(ours)
    newer = ("node_systemd_virtualization_info", (("virtualization_type", "kvm"),))
    assert ours_systemd.pop(newer) == 1.0
    assert ours_systemd == systemd(theirs)
