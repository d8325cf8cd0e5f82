"""A host that has none of the files the collectors read: every scrape is still served,
each collector reports success 0 on every scrape and logs its unavailability once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.metrics import scrape_series
from tests.procs import exporter_args, free_port, running

pytestmark = pytest.mark.integration


def test_every_default_collector_unavailable_on_an_empty_host(tmp_path: Path) -> None:
    empty = tmp_path / "host"
    empty.mkdir()
    config = tmp_path / "exporter.yml"
    config.write_text(f"global:\n  state_dir: {tmp_path / 'state'}\n  min_interval: 0s\n")
    port = free_port()
    log = tmp_path / "exporter.log"
    args = exporter_args(
        port,
        f"--config.file={config}",
        f"--path.procfs={empty}",
        f"--path.sysfs={empty}",
        f"--path.rootfs={empty}",
    )
    with running(args, log, port=port, cwd=tmp_path):
        scrapes = [scrape_series(port) for _ in range(3)]
    last = scrapes[-1]
    ours = {
        dict(labels)["collector"]: v
        for (name, labels), v in last.items()
        if name == "tocsin_exporter_collector_success"
    }
    node = {
        dict(labels)["collector"]: v
        for (name, labels), v in last.items()
        if name == "node_scrape_collector_success"
    }
    # Those reading the system clock, uname(2), adjtimex(2) or an optional directory work
    # anywhere; every other default collector is unavailable here.
    works_anywhere = {"selinux", "textfile", "time", "timex", "uname"}
    assert {c for c, v in ours.items() if v == 0} == set(ours) - works_anywhere
    assert {c: v for c, v in node.items() if c not in works_anywhere} == dict.fromkeys(
        set(node) - works_anywhere, 0.0
    )
    logged = re.findall(r"event=collector_unavailable collector=(\w+)", log.read_text())
    assert sorted(logged) == sorted(set(ours) - works_anywhere)
