"""cpufreq, dmi, edac, nvme, powersupplyclass, rapl, watchdog: exact output on fixture /sys.

The fixtures are what real kernels write: intel_pstate on Linux >= 6.15 (with
cpuinfo_avg_freq) beside acpi-cpufreq with a root-readable cpuinfo_cur_freq; EDAC with
legacy csrows and, on the second controller, only the newer dimm ranks; a two-socket RAPL
tree with an MMIO package zone; NVMe over PCIe and over TCP, with and without native
multipath; a laptop battery, a HID++ mouse battery and a USB-C source.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from exporter.collector import CollectorContext, CollectorUnavailable, HostPaths
from exporter.collectors.cpufreq import parse_cpu_range
from exporter.collectors.powersupplyclass import PowerSupplyClassConfig
from exporter.collectors.rapl import RaplConfig, zone_index
from exporter.config import load_config
from exporter.discovery import available
from exporter.sysattr import go_int, sanitize_metric_name
from servicekit.problems import ConfigError
from tests.conftest import FIXTURES
from tests.registry import exposition, samples

SYSFS = FIXTURES / "sys"
FIXTURE_PATHS = HostPaths(procfs=FIXTURES / "proc", sysfs=SYSFS, rootfs=FIXTURES / "rootfs")
# The class directory each collector needs; without it the collector is unavailable.
SOURCES = {
    "cpufreq": "devices/system/cpu",
    "dmi": "class/dmi/id",
    "edac": "devices/system/edac/mc",
    "nvme": "class/nvme",
    "powersupplyclass": "class/power_supply",
    "rapl": "class/powercap",
    "watchdog": "class/watchdog",
}

# rapl's path label is the zone's directory under --path.sysfs, as node_exporter's.
EXPECTED = {
    "cpufreq": """\
# HELP node_cpu_frequency_hertz Current CPU thread frequency in hertz.
# TYPE node_cpu_frequency_hertz gauge
node_cpu_frequency_hertz{cpu="1"} 2.2e+09
# HELP node_cpu_frequency_avg_hertz Average CPU thread frequency in hertz.
# TYPE node_cpu_frequency_avg_hertz gauge
node_cpu_frequency_avg_hertz{cpu="0"} 1.843e+09
# HELP node_cpu_frequency_min_hertz Minimum CPU thread frequency in hertz.
# TYPE node_cpu_frequency_min_hertz gauge
node_cpu_frequency_min_hertz{cpu="0"} 4e+08
node_cpu_frequency_min_hertz{cpu="1"} 2.2e+09
# HELP node_cpu_frequency_max_hertz Maximum CPU thread frequency in hertz.
# TYPE node_cpu_frequency_max_hertz gauge
node_cpu_frequency_max_hertz{cpu="0"} 4.7e+09
node_cpu_frequency_max_hertz{cpu="1"} 3.6e+09
# HELP node_cpu_scaling_frequency_hertz Current scaled CPU thread frequency in hertz.
# TYPE node_cpu_scaling_frequency_hertz gauge
node_cpu_scaling_frequency_hertz{cpu="0"} 1.896382e+09
node_cpu_scaling_frequency_hertz{cpu="1"} 2.2e+09
# HELP node_cpu_scaling_frequency_min_hertz Minimum scaled CPU thread frequency in hertz.
# TYPE node_cpu_scaling_frequency_min_hertz gauge
node_cpu_scaling_frequency_min_hertz{cpu="0"} 4e+08
node_cpu_scaling_frequency_min_hertz{cpu="1"} 2.2e+09
# HELP node_cpu_scaling_frequency_max_hertz Maximum scaled CPU thread frequency in hertz.
# TYPE node_cpu_scaling_frequency_max_hertz gauge
node_cpu_scaling_frequency_max_hertz{cpu="0"} 4.7e+09
node_cpu_scaling_frequency_max_hertz{cpu="1"} 3.6e+09
# HELP node_cpu_scaling_governor Current enabled CPU frequency governor.
# TYPE node_cpu_scaling_governor gauge
node_cpu_scaling_governor{cpu="0",governor="performance"} 0.0
node_cpu_scaling_governor{cpu="0",governor="powersave"} 1.0
node_cpu_scaling_governor{cpu="1",governor="conservative"} 0.0
node_cpu_scaling_governor{cpu="1",governor="ondemand"} 0.0
node_cpu_scaling_governor{cpu="1",governor="userspace"} 0.0
node_cpu_scaling_governor{cpu="1",governor="powersave"} 0.0
node_cpu_scaling_governor{cpu="1",governor="performance"} 0.0
node_cpu_scaling_governor{cpu="1",governor="schedutil"} 1.0
""",
    "dmi": """\
# HELP node_dmi_info A metric with a constant '1' value labeled by bios_date, bios_release, bios_vendor, bios_version, board_asset_tag, board_name, board_serial, board_vendor, board_version, chassis_asset_tag, chassis_serial, chassis_vendor, chassis_version, product_family, product_name, product_serial, product_sku, product_uuid, product_version, system_vendor if provided by DMI.
# TYPE node_dmi_info gauge
node_dmi_info{bios_date="03/14/2024",bios_release="1.60",bios_vendor="LENOVO",bios_version="N32ET91W (1.67 )",board_asset_tag="Not Available",board_name="20XWCTO1WW",board_vendor="LENOVO",board_version="SDK0J40697 WIN",chassis_asset_tag="No Asset Information",chassis_vendor="LENOVO",chassis_version="None",product_family="ThinkPad X1 Carbon Gen 9",product_name="20XWCTO1WW",product_sku="LENOVO_MT_20XW_BU_Think_FM_ThinkPad X1 Carbon Gen 9",product_version="ThinkPad X1 Carbon Gen 9",system_vendor="LENOVO"} 1.0
""",  # noqa: E501
    "edac": """\
# HELP node_edac_correctable_errors_total Total correctable memory errors.
# TYPE node_edac_correctable_errors_total counter
node_edac_correctable_errors_total{controller="0"} 3.0
node_edac_correctable_errors_total{controller="1"} 0.0
# HELP node_edac_uncorrectable_errors_total Total uncorrectable memory errors.
# TYPE node_edac_uncorrectable_errors_total counter
node_edac_uncorrectable_errors_total{controller="0"} 0.0
node_edac_uncorrectable_errors_total{controller="1"} 1.0
# HELP node_edac_csrow_correctable_errors_total Total correctable memory errors for this csrow.
# TYPE node_edac_csrow_correctable_errors_total counter
node_edac_csrow_correctable_errors_total{controller="0",csrow="unknown"} 0.0
node_edac_csrow_correctable_errors_total{controller="0",csrow="0"} 3.0
node_edac_csrow_correctable_errors_total{controller="0",csrow="1"} 0.0
node_edac_csrow_correctable_errors_total{controller="1",csrow="unknown"} 1.0
# HELP node_edac_csrow_uncorrectable_errors_total Total uncorrectable memory errors for this csrow.
# TYPE node_edac_csrow_uncorrectable_errors_total counter
node_edac_csrow_uncorrectable_errors_total{controller="0",csrow="unknown"} 0.0
node_edac_csrow_uncorrectable_errors_total{controller="0",csrow="0"} 0.0
node_edac_csrow_uncorrectable_errors_total{controller="0",csrow="1"} 0.0
node_edac_csrow_uncorrectable_errors_total{controller="1",csrow="unknown"} 0.0
# HELP node_edac_channel_correctable_errors_total Total correctable memory errors for this channel.
# TYPE node_edac_channel_correctable_errors_total counter
node_edac_channel_correctable_errors_total{channel="0",controller="0",csrow="0",dimm_label="CPU_SrcID0_MC0_Chan0_DIMM0"} 2.0
node_edac_channel_correctable_errors_total{channel="1",controller="0",csrow="0",dimm_label="CPU_SrcID0_MC0_Chan1_DIMM0"} 1.0
node_edac_channel_correctable_errors_total{channel="0",controller="0",csrow="1",dimm_label="mc0_csrow1_channel0"} 0.0
# HELP node_edac_channel_uncorrectable_errors_total Total uncorrectable memory errors for this channel.
# TYPE node_edac_channel_uncorrectable_errors_total counter
node_edac_channel_uncorrectable_errors_total{channel="0",controller="0",csrow="0",dimm_label="CPU_SrcID0_MC0_Chan0_DIMM0"} 0.0
node_edac_channel_uncorrectable_errors_total{channel="0",controller="0",csrow="1",dimm_label="mc0_csrow1_channel0"} 0.0
""",  # noqa: E501
    "nvme": """\
# HELP node_nvme_info Non-numeric data from /sys/class/nvme/<device>, value is always 1.
# TYPE node_nvme_info gauge
node_nvme_info{cntlid="6",device="nvme0",firmware_revision="5B2QGXA7",model="Samsung SSD 980 PRO 1TB",serial="S5GXNX0T123456A",state="live"} 1.0
node_nvme_info{cntlid="1",device="nvme1",firmware_revision="6.8.0-49",model="Linux",serial="9f6c1b2d4e3a5f70",state="live"} 1.0
node_nvme_info{cntlid="2",device="nvme2",firmware_revision="6.8.0-49",model="Linux",serial="0c4e2a9b7d1f3e58",state="live"} 1.0
# HELP node_nvme_namespace_info Information about NVMe namespaces. Value is always 1
# TYPE node_nvme_namespace_info gauge
node_nvme_namespace_info{ana_state="unknown",device="nvme0",nsid="1"} 1.0
node_nvme_namespace_info{ana_state="optimized",device="nvme2",nsid="1"} 1.0
# HELP node_nvme_namespace_capacity_bytes Capacity of the NVMe namespace in bytes. Computed as namespace_size * namespace_logical_block_size
# TYPE node_nvme_namespace_capacity_bytes gauge
node_nvme_namespace_capacity_bytes{device="nvme0",nsid="1"} 1.000204886016e+12
node_nvme_namespace_capacity_bytes{device="nvme2",nsid="1"} 1.7179869184e+10
# HELP node_nvme_namespace_size_bytes Size of the NVMe namespace in bytes. Available in /sys/class/nvme/<device>/<namespace>/size
# TYPE node_nvme_namespace_size_bytes gauge
node_nvme_namespace_size_bytes{device="nvme0",nsid="1"} 1.000204886016e+12
node_nvme_namespace_size_bytes{device="nvme2",nsid="1"} 1.7179869184e+10
# HELP node_nvme_namespace_used_bytes Used space of the NVMe namespace in bytes. Available in /sys/class/nvme/<device>/<namespace>/nuse
# TYPE node_nvme_namespace_used_bytes gauge
node_nvme_namespace_used_bytes{device="nvme0",nsid="1"} 1.000204886016e+12
node_nvme_namespace_used_bytes{device="nvme2",nsid="1"} 4.294967296e+09
# HELP node_nvme_namespace_logical_block_size_bytes Logical block size of the NVMe namespace in bytes. Usually 4Kb. Available in /sys/class/nvme/<device>/<namespace>/queue/logical_block_size
# TYPE node_nvme_namespace_logical_block_size_bytes gauge
node_nvme_namespace_logical_block_size_bytes{device="nvme0",nsid="1"} 512.0
node_nvme_namespace_logical_block_size_bytes{device="nvme2",nsid="1"} 4096.0
""",  # noqa: E501
    "powersupplyclass": """\
# HELP node_power_supply_capacity capacity value of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_capacity gauge
node_power_supply_capacity{power_supply="BAT0"} 72.0
# HELP node_power_supply_current_ampere current_ampere value of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_current_ampere gauge
node_power_supply_current_ampere{power_supply="ucsi-source-psy-USBC000:001"} 0.0
# HELP node_power_supply_current_max current_max value of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_current_max gauge
node_power_supply_current_max{power_supply="ucsi-source-psy-USBC000:001"} 3.0
# HELP node_power_supply_cyclecount cyclecount value of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_cyclecount gauge
node_power_supply_cyclecount{power_supply="BAT0"} 112.0
# HELP node_power_supply_energy_full energy_full value of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_energy_full gauge
node_power_supply_energy_full{power_supply="BAT0"} 49.83
# HELP node_power_supply_energy_full_design energy_full_design value of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_energy_full_design gauge
node_power_supply_energy_full_design{power_supply="BAT0"} 57.0
# HELP node_power_supply_energy_watthour energy_watthour value of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_energy_watthour gauge
node_power_supply_energy_watthour{power_supply="BAT0"} 36.26
# HELP node_power_supply_online online value of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_online gauge
node_power_supply_online{power_supply="AC"} 1.0
node_power_supply_online{power_supply="hidpp_battery_0"} 1.0
node_power_supply_online{power_supply="ucsi-source-psy-USBC000:001"} 0.0
# HELP node_power_supply_power_watt power_watt value of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_power_watt gauge
node_power_supply_power_watt{power_supply="BAT0"} 8.957
# HELP node_power_supply_present present value of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_present gauge
node_power_supply_present{power_supply="BAT0"} 1.0
# HELP node_power_supply_voltage_max voltage_max value of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_voltage_max gauge
node_power_supply_voltage_max{power_supply="ucsi-source-psy-USBC000:001"} 5.0
# HELP node_power_supply_voltage_min voltage_min value of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_voltage_min gauge
node_power_supply_voltage_min{power_supply="ucsi-source-psy-USBC000:001"} 5.0
# HELP node_power_supply_voltage_min_design voltage_min_design value of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_voltage_min_design gauge
node_power_supply_voltage_min_design{power_supply="BAT0"} 11.58
# HELP node_power_supply_voltage_volt voltage_volt value of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_voltage_volt gauge
node_power_supply_voltage_volt{power_supply="BAT0"} 12.087
node_power_supply_voltage_volt{power_supply="hidpp_battery_0"} 3.904
node_power_supply_voltage_volt{power_supply="ucsi-source-psy-USBC000:001"} 5.0
# HELP node_power_supply_info info of /sys/class/power_supply/<power_supply>.
# TYPE node_power_supply_info gauge
node_power_supply_info{power_supply="AC",type="Mains"} 1.0
node_power_supply_info{capacity_level="Normal",manufacturer="SMP",model_name="5B10W13930",power_supply="BAT0",serial_number="843",status="Discharging",technology="Li-poly",type="Battery"} 1.0
node_power_supply_info{capacity_level="Normal",manufacturer="Logitech",model_name="MX Master 3",power_supply="hidpp_battery_0",scope="Device",serial_number="4082-d0-c2-ee-fb",status="Discharging",type="Battery"} 1.0
node_power_supply_info{power_supply="ucsi-source-psy-USBC000:001",scope="System",type="USB",usb_type="C [PD] PD_PPS"} 1.0
""",  # noqa: E501
    "rapl": """\
# HELP node_rapl_package_joules_total Current RAPL package value in joules
# TYPE node_rapl_package_joules_total counter
node_rapl_package_joules_total{index="0",path="{sysfs}/class/powercap/intel-rapl-mmio:0"} 1237.854309
node_rapl_package_joules_total{index="0",path="{sysfs}/class/powercap/intel-rapl:0"} 84913.584367
node_rapl_package_joules_total{index="1",path="{sysfs}/class/powercap/intel-rapl:1"} 81775.394411
# HELP node_rapl_dram_joules_total Current RAPL dram value in joules
# TYPE node_rapl_dram_joules_total counter
node_rapl_dram_joules_total{index="0",path="{sysfs}/class/powercap/intel-rapl:0:0"} 9120.332961
node_rapl_dram_joules_total{index="1",path="{sysfs}/class/powercap/intel-rapl:1:0"} 8814.266214
""",  # noqa: E501
    "watchdog": """\
# HELP node_watchdog_bootstatus Value of /sys/class/watchdog/<watchdog>/bootstatus
# TYPE node_watchdog_bootstatus gauge
node_watchdog_bootstatus{name="watchdog0"} 0.0
node_watchdog_bootstatus{name="watchdog1"} 0.0
# HELP node_watchdog_fw_version Value of /sys/class/watchdog/<watchdog>/fw_version
# TYPE node_watchdog_fw_version gauge
node_watchdog_fw_version{name="watchdog0"} 0.0
# HELP node_watchdog_nowayout Value of /sys/class/watchdog/<watchdog>/nowayout
# TYPE node_watchdog_nowayout gauge
node_watchdog_nowayout{name="watchdog0"} 0.0
node_watchdog_nowayout{name="watchdog1"} 0.0
# HELP node_watchdog_timeleft_seconds Value of /sys/class/watchdog/<watchdog>/timeleft
# TYPE node_watchdog_timeleft_seconds gauge
node_watchdog_timeleft_seconds{name="watchdog0"} 26.0
# HELP node_watchdog_timeout_seconds Value of /sys/class/watchdog/<watchdog>/timeout
# TYPE node_watchdog_timeout_seconds gauge
node_watchdog_timeout_seconds{name="watchdog0"} 30.0
node_watchdog_timeout_seconds{name="watchdog1"} 60.0
# HELP node_watchdog_pretimeout_seconds Value of /sys/class/watchdog/<watchdog>/pretimeout
# TYPE node_watchdog_pretimeout_seconds gauge
node_watchdog_pretimeout_seconds{name="watchdog1"} 10.0
# HELP node_watchdog_access_cs0 Value of /sys/class/watchdog/<watchdog>/access_cs0
# TYPE node_watchdog_access_cs0 gauge
node_watchdog_access_cs0{name="watchdog0"} 1.0
node_watchdog_access_cs0{name="watchdog1"} 0.0
# HELP node_watchdog_info Info of /sys/class/watchdog/<watchdog>
# TYPE node_watchdog_info gauge
node_watchdog_info{identity="iTCO_wdt",name="watchdog0",options="0x8180",pretimeout_governor="",state="inactive",status="0x8000"} 1.0
node_watchdog_info{identity="Software Watchdog",name="watchdog1",options="0x8180",pretimeout_governor="noop",state="active",status=""} 1.0
""",  # noqa: E501
}


def build(name: str, paths: HostPaths = FIXTURE_PATHS, config: Any = None) -> Any:
    return available()[name](CollectorContext(paths=paths, config=config))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_output_is_exact(name: str) -> None:
    assert exposition(build(name)) == EXPECTED[name].replace("{sysfs}", str(SYSFS))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_registered_and_on_by_default(name: str) -> None:
    assert available()[name].default_enabled


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_unavailable_without_its_directory(name: str, tmp_path: Path) -> None:
    with pytest.raises(CollectorUnavailable):
        exposition(build(name, paths=HostPaths(sysfs=tmp_path)))


@pytest.mark.parametrize("name", ["nvme", "powersupplyclass", "rapl", "watchdog"])
def test_an_empty_class_directory_is_a_success_without_samples(name: str, tmp_path: Path) -> None:
    (tmp_path / SOURCES[name]).mkdir(parents=True)
    assert exposition(build(name, paths=HostPaths(sysfs=tmp_path))) == ""


def test_cpufreq_unavailable_when_no_cpu_has_a_driver(tmp_path: Path) -> None:
    # A VM's CPUs without cpufreq directories: nothing to report, said once.
    for cpu in ("cpu0", "cpu1"):
        (tmp_path / "devices" / "system" / "cpu" / cpu).mkdir(parents=True)
    with pytest.raises(CollectorUnavailable, match="cpufreq"):
        exposition(build("cpufreq", paths=HostPaths(sysfs=tmp_path)))


def test_cpufreq_leaves_out_offline_cpus(tmp_path: Path) -> None:
    shutil.copytree(SYSFS / "devices" / "system" / "cpu", tmp_path / "devices/system/cpu")
    (tmp_path / "devices" / "system" / "cpu" / "offline").write_text("1\n")
    found = samples(build("cpufreq", paths=HostPaths(sysfs=tmp_path)))
    assert {dict(labels)["cpu"] for _, labels in found} == {"0"}


def test_cpu_ranges() -> None:
    assert parse_cpu_range("0-2,5,7-8\n") == {0, 1, 2, 5, 7, 8}
    assert parse_cpu_range("\n") == set()


def test_dmi_is_read_once(tmp_path: Path) -> None:
    shutil.copytree(SYSFS / "devices" / "virtual" / "dmi", tmp_path / "class" / "dmi")
    collector = build("dmi", paths=HostPaths(sysfs=tmp_path))
    first = exposition(collector)
    (tmp_path / "class" / "dmi" / "id" / "bios_version").write_text("changed\n")
    assert exposition(collector) == first


def test_dmi_without_strings_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "class" / "dmi" / "id").mkdir(parents=True)
    (tmp_path / "class" / "dmi" / "id" / "uevent").write_text("MODALIAS=dmi:\n")
    with pytest.raises(CollectorUnavailable):
        exposition(build("dmi", paths=HostPaths(sysfs=tmp_path)))


def test_a_malformed_edac_count_fails_the_collection(tmp_path: Path) -> None:
    shutil.copytree(SYSFS / "devices" / "system" / "edac", tmp_path / "devices/system/edac")
    (tmp_path / "devices/system/edac/mc/mc1/ue_count").write_text("lots\n")
    with pytest.raises(ValueError):
        exposition(build("edac", paths=HostPaths(sysfs=tmp_path)))


def test_powersupply_ignored_supplies() -> None:
    config = PowerSupplyClassConfig(ignored_supplies=re.compile("^(AC|BAT)"))
    found = samples(build("powersupplyclass", config=config))
    assert {dict(labels)["power_supply"] for _, labels in found} == {
        "hidpp_battery_0",
        "ucsi-source-psy-USBC000:001",
    }


def test_rapl_zone_label() -> None:
    found = samples(build("rapl", config=RaplConfig(enable_zone_label=True)))
    zones = {
        (dict(labels)["rapl_zone"], dict(labels)["index"])
        for name, labels in found
        if name == "node_rapl_joules_total"
    }
    assert zones == {("package", "0"), ("package", "1"), ("dram", "0"), ("dram", "1")}
    assert len(found) == 5  # the MMIO package zone has index 0 too, on its own path


def test_rapl_zone_names() -> None:
    used: dict[str, int] = {}
    assert zone_index("package-1", used) == (1, "package")
    used["dram"] = 1
    assert zone_index("dram", used) == (1, "dram")
    assert zone_index("psys", used) == (0, "psys")
    assert sanitize_metric_name("uncore-gt.x") == "uncore_gt_x"


def test_go_integers() -> None:
    assert [go_int(t) for t in ("42", "-7", "0x8000", "010", "0")] == [42, -7, 32768, 8, 0]


def test_settings_load_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "exporter.yml"
    path.write_text(
        "collectors:\n"
        "  hwmon: {chip_exclude: '^nvme', sensor_include: 'temp'}\n"
        "  powersupplyclass: {ignored_supplies: '^hidpp'}\n"
        "  rapl: {enable_zone_label: true}\n"
    )
    config = load_config(path, available())
    assert config.collectors["hwmon"].config.chip_exclude.pattern == "^nvme"
    assert config.collectors["powersupplyclass"].config.ignored_supplies.pattern == "^hidpp"
    assert config.collectors["rapl"].config.enable_zone_label is True


def test_bad_settings_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "exporter.yml"
    path.write_text(
        "collectors:\n"
        "  powersupplyclass: {ignored_supplies: '(('}\n"
        "  rapl: {enable_zone_label: maybe}\n"
        "  watchdog: {device_include: x}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(path, available())
    assert {p.key for p in err.value.problems} == {
        "collectors.powersupplyclass.ignored_supplies",
        "collectors.rapl.enable_zone_label",
        "collectors.watchdog.device_include",
    }


HARDWARE = (*sorted(SOURCES), "hwmon", "thermal_zone")


@pytest.mark.parametrize("name", HARDWARE)
def test_live_host_reports_or_is_unavailable(name: str) -> None:
    # Most of these files are absent on a VM; what is there must parse.
    if not Path("/sys/class").exists():
        pytest.skip("no sysfs")
    try:
        text = exposition(build(name, paths=HostPaths()))
    except CollectorUnavailable:
        return
    assert "# TYPE" in text or text == ""
