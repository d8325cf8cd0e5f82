"""Kernel-state collectors (entropy, schedstat, selinux, timex): exact output against the
fixture trees, SELinux off and permissive, adjtimex's conversions, the live host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, HostPaths
from exporter.collectors.timex import STA_NANO, TIME_ERROR, Timex, timex_families
from exporter.discovery import available
from tests.conftest import FIXTURES
from tests.metrics import value
from tests.registry import Families, exposition, samples

FIXTURE_PATHS = HostPaths(
    procfs=FIXTURES / "proc", sysfs=FIXTURES / "sys", rootfs=FIXTURES / "rootfs"
)


def build(name: str, paths: HostPaths = FIXTURE_PATHS, config: Any = None) -> Collector:
    return available()[name](CollectorContext(paths=paths, config=config))


# Exact expected exposition against tests/fixtures/{proc,sys,rootfs}.
EXPECTED = {
    "entropy": """\
# HELP node_entropy_available_bits Bits of available entropy.
# TYPE node_entropy_available_bits gauge
node_entropy_available_bits 256.0
# HELP node_entropy_pool_size_bits Bits of entropy pool.
# TYPE node_entropy_pool_size_bits gauge
node_entropy_pool_size_bits 256.0
""",
    "schedstat": """\
# HELP node_schedstat_running_seconds_total Number of seconds CPU spent running a process.
# TYPE node_schedstat_running_seconds_total counter
node_schedstat_running_seconds_total{cpu="0"} 1826.453017531
node_schedstat_running_seconds_total{cpu="1"} 1790.227365002
# HELP node_schedstat_waiting_seconds_total Number of seconds spent by processing waiting for this CPU.
# TYPE node_schedstat_waiting_seconds_total counter
node_schedstat_waiting_seconds_total{cpu="0"} 229.614328123
node_schedstat_waiting_seconds_total{cpu="1"} 215.038562841
# HELP node_schedstat_timeslices_total Number of timeslices executed by CPU.
# TYPE node_schedstat_timeslices_total counter
node_schedstat_timeslices_total{cpu="0"} 1.0542198e+07
node_schedstat_timeslices_total{cpu="1"} 1.0208835e+07
""",  # noqa: E501
    "selinux": """\
# HELP node_selinux_enabled SELinux is enabled, 1 is true, 0 is false
# TYPE node_selinux_enabled gauge
node_selinux_enabled 1.0
# HELP node_selinux_config_mode Configured SELinux enforcement mode
# TYPE node_selinux_config_mode gauge
node_selinux_config_mode 1.0
# HELP node_selinux_current_mode Current SELinux enforcement mode
# TYPE node_selinux_current_mode gauge
node_selinux_current_mode 1.0
""",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_output_is_exact(name: str) -> None:
    assert exposition(build(name)) == EXPECTED[name]


@pytest.mark.parametrize("name", ["entropy", "schedstat", "selinux", "timex"])
def test_on_by_default(name: str) -> None:
    assert available()[name].default_enabled


@pytest.mark.parametrize("name", ["entropy", "schedstat"])
def test_unavailable_without_its_files(name: str, tmp_path: Path) -> None:
    # schedstat: a kernel built without CONFIG_SCHEDSTATS has no /proc/schedstat.
    with pytest.raises(CollectorUnavailable):
        exposition(build(name, paths=HostPaths(procfs=tmp_path)))


def test_schedstat_skips_domain_lines_and_rejects_short_cpu_lines(tmp_path: Path) -> None:
    (tmp_path / "schedstat").write_text("version 15\ntimestamp 1\ncpu0 1 2 3\n")
    with pytest.raises(ValueError, match="schedstat"):
        exposition(build("schedstat", paths=HostPaths(procfs=tmp_path)))


# --- selinux -------------------------------------------------------------------------------


def test_selinux_disabled_without_selinuxfs(tmp_path: Path) -> None:
    got = samples(build("selinux", paths=HostPaths(procfs=tmp_path, sysfs=tmp_path)))
    assert got == {("node_selinux_enabled", ()): 0.0}


def test_selinux_permissive_and_kernel_context(tmp_path: Path) -> None:
    (tmp_path / "sys/fs/selinux").mkdir(parents=True)
    (tmp_path / "sys/fs/selinux/enforce").write_text("0")
    (tmp_path / "proc/self/attr").mkdir(parents=True)
    (tmp_path / "proc/self/attr/current").write_text("unconfined_u:unconfined_r:t:s0\0")
    (tmp_path / "etc/selinux").mkdir(parents=True)
    (tmp_path / "etc/selinux/config").write_text('SELINUX="permissive"\n')
    paths = HostPaths(procfs=tmp_path / "proc", sysfs=tmp_path / "sys", rootfs=tmp_path)
    got = samples(build("selinux", paths=paths))
    assert value(got, "node_selinux_enabled") == 1
    assert value(got, "node_selinux_config_mode") == 0
    assert value(got, "node_selinux_current_mode") == 0
    # A process in the `kernel` context sees SELinux as off, as go-selinux does.
    (tmp_path / "proc/self/attr/current").write_text("kernel\0")
    assert samples(build("selinux", paths=paths)) == {("node_selinux_enabled", ()): 0.0}


# --- timex ---------------------------------------------------------------------------------


def _timex(**fields: int) -> Timex:
    tx = Timex()
    for name, raw in fields.items():
        setattr(tx, name, raw)
    return tx


def test_timex_conversions_microsecond_clock() -> None:
    # What chrony-synchronised Linux reports: PLL mode, microsecond resolution.
    tx = _timex(
        offset=-1312, freq=-1153434, maxerror=8500, esterror=412, status=0x2001,
        constant=7, tick=10000, ppsfreq=0, jitter=0, shift=0, stabil=0, tai=37,
    )  # fmt: skip
    got = samples(Families(timex_families(0, tx)))
    assert value(got, "node_timex_sync_status") == 1
    assert value(got, "node_timex_offset_seconds") == -1312 / 1e9  # STA_NANO set
    assert value(got, "node_timex_frequency_adjustment_ratio") == 1 + -1153434 / 65536e6
    assert value(got, "node_timex_maxerror_seconds") == 0.0085
    assert value(got, "node_timex_estimated_error_seconds") == 0.000412
    assert value(got, "node_timex_status") == 0x2001
    assert value(got, "node_timex_tick_seconds") == 0.01
    assert value(got, "node_timex_tai_offset_seconds") == 37
    assert len(got) == 17


def test_timex_unsynchronised_clock_in_microseconds() -> None:
    tx = _timex(offset=2500, jitter=40, status=0x0040)
    assert not tx.status & STA_NANO
    got = samples(Families(timex_families(TIME_ERROR, tx)))
    assert value(got, "node_timex_sync_status") == 0
    assert value(got, "node_timex_offset_seconds") == 0.0025
    assert value(got, "node_timex_pps_jitter_seconds") == 0.00004


def test_timex_live_host() -> None:
    if not Path("/proc/stat").exists():
        pytest.skip("not a Linux host")
    got = samples(build("timex", paths=HostPaths()))
    assert value(got, "node_timex_tick_seconds") == pytest.approx(0.01, rel=0.5)
    assert value(got, "node_timex_sync_status") in (0.0, 1.0)


@pytest.mark.parametrize("name", ["entropy", "schedstat", "selinux"])
def test_live_host(name: str) -> None:
    if not Path("/proc/stat").exists():
        pytest.skip("not a Linux host")
    if name == "schedstat" and not Path("/proc/schedstat").exists():
        with pytest.raises(CollectorUnavailable):
            exposition(build(name, paths=HostPaths()))
        return
    assert exposition(build(name, paths=HostPaths())).strip()
