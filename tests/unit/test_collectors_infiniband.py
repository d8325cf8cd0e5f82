"""infiniband: exact output against the fixture /sys/class/infiniband tree.

mlx4_0 is a ConnectX-3 on InfiniBand FDR (counters_ext; port 2 disabled, with counters
reading "N/A (no PMA)"); mlx5_0 a ConnectX-6 on RoCE (hw_counters, no counters_ext).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from exporter.collector import CollectorContext, CollectorUnavailable, HostPaths
from exporter.collectors.infiniband import (
    InfinibandCollector,
    InfinibandConfig,
    parse_rate,
    parse_state,
)
from tests.conftest import FIXTURES
from tests.registry import exposition, samples


def infiniband(sysfs: Path = FIXTURES / "sys", config: InfinibandConfig | None = None) -> str:
    return exposition(
        InfinibandCollector(CollectorContext(paths=HostPaths(sysfs=sysfs), config=config))
    )


def test_fixture_output_is_exact() -> None:
    assert infiniband() == (FIXTURES / "expected" / "infiniband.prom").read_text()


def test_rates_and_states_read_as_procfs() -> None:
    assert parse_rate("56 Gb/sec (4X FDR)") == 7e9
    assert parse_rate("2.5 Gb/sec (1X SDR)") == 312500000
    # procfs parses at float32 precision and truncates: 0.3 becomes 0.30000001192...
    assert parse_rate("0.3 Gb/sec") == 37500001
    assert parse_state("4: ACTIVE") == 4
    with pytest.raises(ValueError, match="ID: NAME"):
        parse_state("ACTIVE")


def test_device_include_and_exclude() -> None:
    include = InfinibandConfig(device_include=re.compile("^mlx5"))
    exclude = InfinibandConfig(device_exclude=re.compile("^mlx5"))

    def devices(config: InfinibandConfig) -> set[str]:
        found = samples(
            InfinibandCollector(
                CollectorContext(paths=HostPaths(sysfs=FIXTURES / "sys"), config=config)
            )
        )
        return {dict(labels)["device"] for _, labels in found}

    assert devices(include) == {"mlx5_0"}
    assert devices(exclude) == {"mlx4_0"}


def test_without_infiniband_the_collector_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(CollectorUnavailable):
        infiniband(tmp_path)


def test_an_unparsable_counter_fails_the_collection(tmp_path: Path) -> None:
    root = tmp_path / "class" / "infiniband"
    shutil.copytree(FIXTURES / "sys" / "class" / "infiniband" / "mlx5_0", root / "mlx5_0")
    (root / "mlx5_0/ports/1/counters/link_downed").write_text("broken\n")
    with pytest.raises(ValueError, match="link_downed"):
        infiniband(tmp_path)
