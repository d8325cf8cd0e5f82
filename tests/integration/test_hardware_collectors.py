"""The hardware collectors through real processes: tocsin-exporter and node_exporter both
read the fixture /sys tree (the host, a VM, has almost none of these files).

Every family node_exporter sends from the fixtures, tocsin sends with the same type, HELP,
label names and values; what differs is only what newer node_exporter releases changed,
each listed with the release. A host without the files: each collector is reported
unavailable once (success 0, one log line) and the scrape still succeeds.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import FIXTURES, require_binary
from tests.metrics import fetch_metrics, parse_series
from tests.procs import REPO, free_port, node_exporter_args, run_exporter, running

pytestmark = pytest.mark.integration

# Debian's node_exporter 1.5 has all of these but watchdog (added in 1.8.0).
SHARED = ("cpufreq", "dmi", "edac", "hwmon", "nvme", "powersupplyclass", "rapl", "thermal_zone")
OURS = (*SHARED, "watchdog")
SYSFS = FIXTURES / "sys"

# Families only newer node_exporter releases send, with the release that added them.
NEWER_FAMILIES = {
    "node_cpu_scaling_governor": "1.6.0",
    "node_hwmon_freq_freq_mhz": "1.9.0",
    "node_nvme_namespace_info": "1.11.0",
    "node_nvme_namespace_capacity_bytes": "1.11.0",
    "node_nvme_namespace_size_bytes": "1.11.0",
    "node_nvme_namespace_used_bytes": "1.11.0",
    "node_nvme_namespace_logical_block_size_bytes": "1.11.0",
    "node_cpu_frequency_avg_hertz": "1.12.0",
    "node_edac_channel_correctable_errors": "1.12.0",
    "node_edac_channel_uncorrectable_errors": "1.12.0",
}
# Labels only newer releases have.
NEWER_LABELS = {"node_nvme_info": {"cntlid": "1.11.0"}}
# HELP texts newer releases reworded ("cpu" became "CPU" in 1.6.0).
NEWER_HELP = {
    "node_cpu_frequency_hertz": "1.6.0",
    "node_cpu_frequency_max_hertz": "1.6.0",
    "node_cpu_frequency_min_hertz": "1.6.0",
}
# Since 1.12.0 hwmon nodes sharing one parent device get the name file as a suffix
# (1.5 gave both asus-nb-wmi nodes the chip label platform_asus_nb_wmi).
NEWER_CHIP_NAMES = {
    "platform_asus_nb_wmi_asus": "platform_asus_nb_wmi",
    "platform_asus_nb_wmi_asus_custom_fan_curve": "platform_asus_nb_wmi",
}

# hwmon's freq sensors (GPU clocks) are read since 1.9.0; 1.5 skips their files.
NEWER_SENSORS = re.compile(r"^freq\d+$")

Family = tuple[str, str, set[str], dict[tuple[tuple[str, str], ...], float]]


def _families(text: str) -> dict[str, Family]:
    out: dict[str, Family] = {}
    for family in text_string_to_metric_families(text):
        if not family.name.startswith("node_") or family.name.startswith(
            ("node_scrape_collector", "node_exporter_build")
        ):
            continue
        labels: set[str] = set()
        values = {}
        for s in family.samples:
            labels.update(s.labels)
            if NEWER_SENSORS.match(s.labels.get("sensor", "")):
                continue
            shown = {**s.labels}
            if "chip" in shown:
                shown["chip"] = NEWER_CHIP_NAMES.get(shown["chip"], shown["chip"])
            for extra in NEWER_LABELS.get(family.name, {}):
                shown.pop(extra, None)
            values[tuple(sorted(shown.items()))] = s.value
        out[family.name] = (family.type, family.documentation, labels, values)
    return out


@pytest.fixture(scope="module")
def bodies(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """node_exporter's and tocsin's /metrics over the fixture /sys."""
    binary = require_binary("node_exporter")
    tmp = tmp_path_factory.mktemp("hardware")
    port = free_port()
    theirs_args = node_exporter_args(
        binary, port, SHARED, f"--path.sysfs={SYSFS}", "--web.disable-exporter-metrics"
    )
    ours_flags = [f"--path.sysfs={SYSFS}", "--collector.disable-defaults"]
    ours_flags += [f"--collector.{name}" for name in OURS]
    with (
        running(theirs_args, tmp / "node_exporter.log", port=port, cwd=REPO),
        run_exporter(ours_flags, tmp) as ours,
    ):
        return fetch_metrics(port), fetch_metrics(ours.port)


def test_every_family_node_exporter_sends_matches(bodies: tuple[str, str]) -> None:
    theirs, ours = (_families(body) for body in bodies)
    assert len(theirs) > 60, "node_exporter read little from the fixtures"
    assert sorted(set(theirs) - set(ours)) == []
    extra = set(ours) - set(theirs) - set(NEWER_FAMILIES)
    assert sorted(name for name in extra if not name.startswith("node_watchdog_")) == []
    for name, (typ, help_text, labels, values) in theirs.items():
        our_type, our_help, our_labels, our_values = ours[name]
        assert our_type == typ, name
        if name not in NEWER_HELP:
            assert our_help == help_text, name
        assert our_labels - set(NEWER_LABELS.get(name, {})) == labels, name
        assert our_values == values, name


def test_every_collector_succeeds_on_the_fixtures(bodies: tuple[str, str]) -> None:
    found = parse_series(bodies[1])
    for name in OURS:
        key = ("tocsin_exporter_collector_success", (("collector", name),))
        assert found[key] == 1.0, name


def test_promtool_finds_nothing_node_exporter_does_not(bodies: tuple[str, str]) -> None:
    promtool = require_binary("promtool")

    def problems(body: str) -> set[str]:
        run = subprocess.run(
            [promtool, "check", "metrics"], input=body, capture_output=True, text=True, timeout=60
        )
        assert run.returncode in (0, 3), run.stderr
        return {line for line in (run.stdout + run.stderr).splitlines() if line.strip()}

    theirs, ours = bodies
    assert problems(ours) - problems(theirs) == set()


def test_without_the_files_each_is_unavailable_once(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    empty = tmp_path_factory.mktemp("empty-sys")
    tmp = tmp_path_factory.mktemp("unavailable")
    flags = [f"--path.sysfs={empty}", "--collector.disable-defaults"]
    flags += [f"--collector.{name}" for name in OURS]
    with run_exporter(flags, tmp) as proc:
        for _ in range(3):
            found = parse_series(fetch_metrics(proc.port))
        for name in OURS:
            assert found[("tocsin_exporter_collector_success", (("collector", name),))] == 0.0
        log = proc.log()
    for name in OURS:
        lines = re.findall(rf"collector_unavailable.*collector={name}\b", log)
        assert len(lines) == 1, (name, log[-2000:])
