"""hwmon and thermal_zone: exact output against fixture /sys trees in several kernels' layouts.

The hwmon fixture has what real kernels write: chips linked from /sys/class/hwmon into
/sys/devices (coretemp, a Super-I/O chip, an NVMe drive, a GPU, an I2C humidity sensor),
a virtual chip named only by its name file, two nodes on one parent device, and the
pre-3.x layout whose attributes sit in the device directory.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from exporter.collector import CollectorContext, CollectorUnavailable, HostPaths
from exporter.collectors.hwmon import HwmonCollector, HwmonConfig, clean_name
from exporter.collectors.hwmon_sensors import explode
from exporter.collectors.thermal_zone import ThermalZoneCollector
from exporter.discovery import available
from servicekit.loader import Loader
from tests.conftest import FIXTURES
from tests.registry import exposition, samples

FIXTURE_PATHS = HostPaths(
    procfs=FIXTURES / "proc", sysfs=FIXTURES / "sys", rootfs=FIXTURES / "rootfs"
)

EXPECTED = {
    "hwmon": """\
# HELP node_hwmon_beep_enabled Hardware beep enabled
# TYPE node_hwmon_beep_enabled gauge
node_hwmon_beep_enabled{chip="platform_nct6775_656",sensor="beep_enable0"} 0.0
# HELP node_hwmon_chip_names Annotation metric for human-readable chip names
# TYPE node_hwmon_chip_names gauge
node_hwmon_chip_names{chip="power_meter",chip_name="power_meter"} 1.0
node_hwmon_chip_names{chip="platform_coretemp_0",chip_name="coretemp"} 1.0
node_hwmon_chip_names{chip="nvme_nvme0",chip_name="nvme"} 1.0
node_hwmon_chip_names{chip="platform_nct6775_656",chip_name="nct6798"} 1.0
node_hwmon_chip_names{chip="0000:00:01_1_0000:03:00_0",chip_name="amdgpu"} 1.0
node_hwmon_chip_names{chip="platform_asus_nb_wmi_asus",chip_name="asus"} 1.0
node_hwmon_chip_names{chip="platform_asus_nb_wmi_asus_custom_fan_curve",chip_name="asus_custom_fan_curve"} 1.0
node_hwmon_chip_names{chip="i2c_1_1_0044",chip_name="sht3x"} 1.0
# HELP node_hwmon_cpu_vid_volts Hardware monitor for voltage (vid)
# TYPE node_hwmon_cpu_vid_volts gauge
node_hwmon_cpu_vid_volts{chip="platform_nct6775_656",sensor="cpu0"} 1.1
# HELP node_hwmon_curr_amps Hardware monitor for current (input)
# TYPE node_hwmon_curr_amps gauge
node_hwmon_curr_amps{chip="i2c_1_1_0044",sensor="curr1"} 1.52
# HELP node_hwmon_energy_joule_total Hardware monitor for joules used so far (input)
# TYPE node_hwmon_energy_joule_total counter
node_hwmon_energy_joule_total{chip="power_meter",sensor="energy1"} 123456.789
# HELP node_hwmon_fan_alarm Hardware sensor alarm status (fan)
# TYPE node_hwmon_fan_alarm gauge
node_hwmon_fan_alarm{chip="platform_nct6775_656",sensor="fan1"} 0.0
# HELP node_hwmon_fan_beep_enabled Hardware monitor sensor has beeping enabled
# TYPE node_hwmon_fan_beep_enabled gauge
node_hwmon_fan_beep_enabled{chip="platform_nct6775_656",sensor="fan1"} 0.0
# HELP node_hwmon_fan_max_rpm Hardware monitor for fan revolutions per minute (max)
# TYPE node_hwmon_fan_max_rpm gauge
node_hwmon_fan_max_rpm{chip="0000:00:01_1_0000:03:00_0",sensor="fan1"} 3300.0
# HELP node_hwmon_fan_min_rpm Hardware monitor for fan revolutions per minute (min)
# TYPE node_hwmon_fan_min_rpm gauge
node_hwmon_fan_min_rpm{chip="platform_nct6775_656",sensor="fan1"} 0.0
node_hwmon_fan_min_rpm{chip="platform_nct6775_656",sensor="fan2"} 0.0
# HELP node_hwmon_fan_pulses Hardware monitor fan element pulses
# TYPE node_hwmon_fan_pulses gauge
node_hwmon_fan_pulses{chip="platform_nct6775_656",sensor="fan1"} 2.0
# HELP node_hwmon_fan_rpm Hardware monitor for fan revolutions per minute (input)
# TYPE node_hwmon_fan_rpm gauge
node_hwmon_fan_rpm{chip="platform_nct6775_656",sensor="fan1"} 1203.0
node_hwmon_fan_rpm{chip="platform_nct6775_656",sensor="fan2"} 0.0
node_hwmon_fan_rpm{chip="platform_it87_552",sensor="fan1"} 2250.0
node_hwmon_fan_rpm{chip="0000:00:01_1_0000:03:00_0",sensor="fan1"} 0.0
node_hwmon_fan_rpm{chip="platform_asus_nb_wmi_asus",sensor="fan1"} 2900.0
# HELP node_hwmon_fan_target_rpm Hardware monitor for fan revolutions per minute (target)
# TYPE node_hwmon_fan_target_rpm gauge
node_hwmon_fan_target_rpm{chip="platform_nct6775_656",sensor="fan1"} 1200.0
# HELP node_hwmon_freq_freq_mhz Hardware monitor for GPU frequency in MHz
# TYPE node_hwmon_freq_freq_mhz gauge
node_hwmon_freq_freq_mhz{chip="0000:00:01_1_0000:03:00_0",sensor="sclk"} 1850.0
# HELP node_hwmon_humidity Hardware monitor for humidity, as a ratio (multiply with 100.0 to get the humidity as a percentage) (input)
# TYPE node_hwmon_humidity gauge
node_hwmon_humidity{chip="i2c_1_1_0044",sensor="humidity1"} 0.0455
# HELP node_hwmon_humidity_max Hardware monitor for humidity, as a ratio (multiply with 100.0 to get the humidity as a percentage) (max)
# TYPE node_hwmon_humidity_max gauge
node_hwmon_humidity_max{chip="i2c_1_1_0044",sensor="humidity1"} 0.1
# HELP node_hwmon_in_alarm Hardware sensor alarm status (in)
# TYPE node_hwmon_in_alarm gauge
node_hwmon_in_alarm{chip="platform_nct6775_656",sensor="in0"} 0.0
# HELP node_hwmon_in_beep_enabled Hardware monitor sensor has beeping enabled
# TYPE node_hwmon_in_beep_enabled gauge
node_hwmon_in_beep_enabled{chip="platform_nct6775_656",sensor="in0"} 0.0
# HELP node_hwmon_in_max_volts Hardware monitor for voltage (max)
# TYPE node_hwmon_in_max_volts gauge
node_hwmon_in_max_volts{chip="platform_nct6775_656",sensor="in0"} 1.744
# HELP node_hwmon_in_min_volts Hardware monitor for voltage (min)
# TYPE node_hwmon_in_min_volts gauge
node_hwmon_in_min_volts{chip="platform_nct6775_656",sensor="in0"} 0.0
# HELP node_hwmon_in_volts Hardware monitor for voltage (input)
# TYPE node_hwmon_in_volts gauge
node_hwmon_in_volts{chip="platform_nct6775_656",sensor="in0"} 1.04
node_hwmon_in_volts{chip="platform_nct6775_656",sensor="in1"} 1.016
node_hwmon_in_volts{chip="platform_it87_552",sensor="in0"} 1.104
node_hwmon_in_volts{chip="0000:00:01_1_0000:03:00_0",sensor="in0"} 0.9
# HELP node_hwmon_intrusion_alarm Hardware sensor alarm status (intrusion)
# TYPE node_hwmon_intrusion_alarm gauge
node_hwmon_intrusion_alarm{chip="platform_nct6775_656",sensor="intrusion0"} 1.0
# HELP node_hwmon_intrusion_beep_enabled Hardware monitor sensor has beeping enabled
# TYPE node_hwmon_intrusion_beep_enabled gauge
node_hwmon_intrusion_beep_enabled{chip="platform_nct6775_656",sensor="intrusion0"} 0.0
# HELP node_hwmon_power_accuracy Hardware monitor power meter accuracy, as a ratio
# TYPE node_hwmon_power_accuracy gauge
node_hwmon_power_accuracy{chip="power_meter",sensor="power1"} 0.095
# HELP node_hwmon_power_average_interval_seconds Hardware monitor power usage update interval (average_interval)
# TYPE node_hwmon_power_average_interval_seconds gauge
node_hwmon_power_average_interval_seconds{chip="power_meter",sensor="power1"} 1.0
# HELP node_hwmon_power_average_watt Hardware monitor for power usage in watts (average)
# TYPE node_hwmon_power_average_watt gauge
node_hwmon_power_average_watt{chip="power_meter",sensor="power1"} 345.0
node_hwmon_power_average_watt{chip="0000:00:01_1_0000:03:00_0",sensor="power1"} 15.0
# HELP node_hwmon_power_cap_watt Hardware monitor for power usage in watts (cap)
# TYPE node_hwmon_power_cap_watt gauge
node_hwmon_power_cap_watt{chip="0000:00:01_1_0000:03:00_0",sensor="power1"} 186.0
# HELP node_hwmon_pwm Hardware monitor pwm element\N{SPACE}
# TYPE node_hwmon_pwm gauge
node_hwmon_pwm{chip="platform_nct6775_656",sensor="pwm1"} 128.0
# HELP node_hwmon_pwm_enable Hardware monitor pwm element enable
# TYPE node_hwmon_pwm_enable gauge
node_hwmon_pwm_enable{chip="platform_nct6775_656",sensor="pwm1"} 5.0
node_hwmon_pwm_enable{chip="0000:00:01_1_0000:03:00_0",sensor="pwm1"} 2.0
node_hwmon_pwm_enable{chip="platform_asus_nb_wmi_asus_custom_fan_curve",sensor="pwm1"} 2.0
# HELP node_hwmon_pwm_mode Hardware monitor pwm element mode
# TYPE node_hwmon_pwm_mode gauge
node_hwmon_pwm_mode{chip="platform_nct6775_656",sensor="pwm1"} 1.0
# HELP node_hwmon_sensor_label Label for given chip and sensor
# TYPE node_hwmon_sensor_label gauge
node_hwmon_sensor_label{chip="platform_coretemp_0",label="Package id 0",sensor="temp1"} 1.0
node_hwmon_sensor_label{chip="platform_coretemp_0",label="Core 0",sensor="temp2"} 1.0
node_hwmon_sensor_label{chip="nvme_nvme0",label="Composite",sensor="temp1"} 1.0
node_hwmon_sensor_label{chip="platform_nct6775_656",label="AVSB",sensor="in1"} 1.0
node_hwmon_sensor_label{chip="platform_nct6775_656",label="SYSTIN",sensor="temp7"} 1.0
node_hwmon_sensor_label{chip="0000:00:01_1_0000:03:00_0",label="sclk",sensor="freq1"} 1.0
node_hwmon_sensor_label{chip="0000:00:01_1_0000:03:00_0",label="vddgfx",sensor="in0"} 1.0
node_hwmon_sensor_label{chip="0000:00:01_1_0000:03:00_0",label="edge",sensor="temp1"} 1.0
node_hwmon_sensor_label{chip="platform_asus_nb_wmi_asus",label="cpu_fan",sensor="fan1"} 1.0
# HELP node_hwmon_temp_alarm Hardware sensor alarm status (temp)
# TYPE node_hwmon_temp_alarm gauge
node_hwmon_temp_alarm{chip="nvme_nvme0",sensor="temp1"} 0.0
# HELP node_hwmon_temp_celsius Hardware monitor for temperature (input)
# TYPE node_hwmon_temp_celsius gauge
node_hwmon_temp_celsius{chip="platform_coretemp_0",sensor="temp1"} 55.0
node_hwmon_temp_celsius{chip="platform_coretemp_0",sensor="temp2"} 52.0
node_hwmon_temp_celsius{chip="nvme_nvme0",sensor="temp1"} 38.85
node_hwmon_temp_celsius{chip="platform_nct6775_656",sensor="temp7"} 36.0
node_hwmon_temp_celsius{chip="platform_it87_552",sensor="temp1"} 41.0
node_hwmon_temp_celsius{chip="0000:00:01_1_0000:03:00_0",sensor="temp1"} 45.0
node_hwmon_temp_celsius{chip="i2c_1_1_0044",sensor="temp1"} 23.150000000000002
# HELP node_hwmon_temp_crit_alarm_celsius Hardware monitor for temperature (crit_alarm)
# TYPE node_hwmon_temp_crit_alarm_celsius gauge
node_hwmon_temp_crit_alarm_celsius{chip="platform_coretemp_0",sensor="temp1"} 0.0
node_hwmon_temp_crit_alarm_celsius{chip="platform_coretemp_0",sensor="temp2"} 0.0
# HELP node_hwmon_temp_crit_celsius Hardware monitor for temperature (crit)
# TYPE node_hwmon_temp_crit_celsius gauge
node_hwmon_temp_crit_celsius{chip="platform_coretemp_0",sensor="temp1"} 100.0
node_hwmon_temp_crit_celsius{chip="platform_coretemp_0",sensor="temp2"} 100.0
# HELP node_hwmon_temp_max_celsius Hardware monitor for temperature (max)
# TYPE node_hwmon_temp_max_celsius gauge
node_hwmon_temp_max_celsius{chip="platform_coretemp_0",sensor="temp1"} 84.0
node_hwmon_temp_max_celsius{chip="platform_coretemp_0",sensor="temp2"} 84.0
node_hwmon_temp_max_celsius{chip="nvme_nvme0",sensor="temp1"} 84.85000000000001
# HELP node_hwmon_temp_min_celsius Hardware monitor for temperature (min)
# TYPE node_hwmon_temp_min_celsius gauge
node_hwmon_temp_min_celsius{chip="nvme_nvme0",sensor="temp1"} -273.15000000000003
# HELP node_hwmon_temp_type Hardware monitor temp element type
# TYPE node_hwmon_temp_type gauge
node_hwmon_temp_type{chip="platform_nct6775_656",sensor="temp7"} 4.0
# HELP node_hwmon_update_interval_seconds Hardware monitor update interval
# TYPE node_hwmon_update_interval_seconds gauge
node_hwmon_update_interval_seconds{chip="power_meter",sensor="update_interval0"} 2.0
# HELP node_hwmon_voltage_regulator_version Hardware voltage regulator
# TYPE node_hwmon_voltage_regulator_version gauge
node_hwmon_voltage_regulator_version{chip="platform_it87_552",sensor="vrm0"} 10.0
""",  # noqa: E501
    "thermal_zone": """\
# HELP node_thermal_zone_temp Zone temperature in Celsius
# TYPE node_thermal_zone_temp gauge
node_thermal_zone_temp{type="acpitz",zone="0"} 27.8
node_thermal_zone_temp{type="x86_pkg_temp",zone="1"} 55.0
node_thermal_zone_temp{type="iwlwifi_1",zone="10"} 41.0
# HELP node_cooling_device_cur_state Current throttle state of the cooling device
# TYPE node_cooling_device_cur_state gauge
node_cooling_device_cur_state{name="0",type="Processor"} 0.0
node_cooling_device_cur_state{name="1",type="intel_powerclamp"} -1.0
node_cooling_device_cur_state{name="2",type="TCC Offset"} 5.0
# HELP node_cooling_device_max_state Maximum throttle state of the cooling device
# TYPE node_cooling_device_max_state gauge
node_cooling_device_max_state{name="0",type="Processor"} 3.0
node_cooling_device_max_state{name="1",type="intel_powerclamp"} 50.0
node_cooling_device_max_state{name="2",type="TCC Offset"} 63.0
""",
}


def build(name: str, paths: HostPaths = FIXTURE_PATHS, config: Any = None) -> Any:
    return available()[name](CollectorContext(paths=paths, config=config))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_output_is_exact(name: str) -> None:
    assert exposition(build(name)) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_registered_and_on_by_default(name: str) -> None:
    assert available()[name].default_enabled


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_unavailable_without_the_class_directory(name: str, tmp_path: Path) -> None:
    with pytest.raises(CollectorUnavailable):
        exposition(build(name, paths=HostPaths(sysfs=tmp_path)))


def test_an_empty_thermal_class_is_a_success_without_samples(tmp_path: Path) -> None:
    # What a VM shows, and what node_exporter reports as a success there.
    (tmp_path / "class" / "thermal").mkdir(parents=True)
    assert (
        list(ThermalZoneCollector(CollectorContext(paths=HostPaths(sysfs=tmp_path))).collect())
        == []
    )


def test_a_zone_whose_temperature_cannot_be_read_reports_zero(tmp_path: Path) -> None:
    # procfs keeps such a zone (a switched-off sensor answers EINVAL) at temperature 0.
    zone = tmp_path / "class" / "thermal" / "thermal_zone3"
    (zone / "temp").mkdir(parents=True)
    (zone / "type").write_text("iwlwifi_1\n")
    found = samples(ThermalZoneCollector(CollectorContext(paths=HostPaths(sysfs=tmp_path))))
    assert found == {("node_thermal_zone_temp", (("type", "iwlwifi_1"), ("zone", "3"))): 0.0}


def _hwmon(**patterns: str) -> HwmonCollector:
    loader = Loader("exporter.yml")
    config = loader.load(HwmonConfig, patterns, "collectors.hwmon")
    assert loader.problems == [] and config is not None
    return HwmonCollector(CollectorContext(paths=FIXTURE_PATHS, config=config))


def _chips(collector: HwmonCollector) -> set[str]:
    return {dict(labels)["chip"] for _, labels in samples(collector)}


def test_chip_include_wins_over_exclude() -> None:
    assert _chips(_hwmon(chip_include="^platform_coretemp", chip_exclude=".")) == {
        "platform_coretemp_0"
    }


def test_chip_exclude() -> None:
    chips = _chips(_hwmon(chip_exclude="^platform_"))
    assert chips == {"0000:00:01_1_0000:03:00_0", "i2c_1_1_0044", "nvme_nvme0", "power_meter"}


def test_sensor_filter_matches_chip_and_sensor() -> None:
    found = samples(_hwmon(sensor_exclude="^platform_coretemp_0;temp2$"))
    temps = {
        dict(labels)["sensor"]
        for name, labels in found
        if name == "node_hwmon_temp_celsius" and dict(labels)["chip"] == "platform_coretemp_0"
    }
    assert temps == {"temp1"}
    only = samples(_hwmon(sensor_include="^nvme_nvme0;"))
    assert {dict(labels).get("sensor") for _, labels in only} == {"temp1", None}


def test_bad_hwmon_pattern_names_the_key() -> None:
    loader = Loader("exporter.yml")
    loader.load(HwmonConfig, {"sensor_include": "(("}, "collectors.hwmon")
    assert [p.key for p in loader.problems] == ["collectors.hwmon.sensor_include"]


def test_a_hwmon_node_without_device_or_name_is_named_by_its_directory(tmp_path: Path) -> None:
    chip = tmp_path / "class" / "hwmon" / "hwmon9"
    chip.mkdir(parents=True)
    (chip / "temp1_input").write_text("40500\n")
    (chip / "temp1_max").write_text("not a number\n")
    found = samples(HwmonCollector(CollectorContext(paths=HostPaths(sysfs=tmp_path))))
    assert found == {("node_hwmon_temp_celsius", (("chip", "hwmon9"), ("sensor", "temp1"))): 40.5}


def test_unreadable_sensor_files_are_skipped(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "sys" / "devices", tmp_path / "devices", symlinks=True)
    node = tmp_path / "devices" / "platform" / "coretemp.0" / "hwmon" / "hwmon1"
    (node / "temp2_input").unlink()
    (node / "temp2_input").mkdir()  # a read fails (EISDIR), as a broken driver's EAGAIN
    (tmp_path / "class" / "hwmon").mkdir(parents=True)
    (tmp_path / "class" / "hwmon" / "hwmon1").symlink_to(node)
    found = samples(HwmonCollector(CollectorContext(paths=HostPaths(sysfs=tmp_path))))
    temps = {
        dict(labels)["sensor"]: value
        for (name, labels), value in found.items()
        if name == "node_hwmon_temp_celsius"
    }
    assert temps == {"temp1": 55.0}
    assert (
        "node_hwmon_temp_max_celsius",
        (("chip", "platform_coretemp_0"), ("sensor", "temp2")),
    ) in found


def test_a_reused_hwmon_number_is_named_after_its_new_device(tmp_path: Path) -> None:
    # Chip names are kept per link target; after a hot-plug hwmon0 points elsewhere.
    for device in ("1-0044", "1-0045"):
        node = tmp_path / "devices" / "i2c-1" / device / "hwmon" / "hwmon0"
        node.mkdir(parents=True)
        (node / "device").symlink_to(f"../../../{device}")
        (node / "temp1_input").write_text("21000\n")
    link = tmp_path / "class" / "hwmon" / "hwmon0"
    link.parent.mkdir(parents=True)
    link.symlink_to("../../devices/i2c-1/1-0044/hwmon/hwmon0")
    collector = HwmonCollector(CollectorContext(paths=HostPaths(sysfs=tmp_path)))
    assert _chips(collector) == {"i2c_1_1_0044"}
    link.unlink()
    link.symlink_to("../../devices/i2c-1/1-0045/hwmon/hwmon0")
    assert _chips(collector) == {"i2c_1_1_0045"}


@pytest.mark.parametrize(
    ("filename", "parts"),
    [
        ("temp1_input", ("temp", 1, "input")),
        ("in0", ("in", 0, "")),
        ("beep_enable", ("beep_enable", 0, "")),
        ("fan12_pulses", ("fan", 12, "pulses")),
        ("1abc", None),
    ],
)
def test_sensor_file_names(filename: str, parts: tuple[str, int, str] | None) -> None:
    assert explode(filename) == parts


def test_clean_name_as_node_exporter() -> None:
    assert clean_name("Platform coretemp.0\n") == "platform_coretemp_0"
    assert clean_name("0000:03:00.0") == "0000:03:00_0"
