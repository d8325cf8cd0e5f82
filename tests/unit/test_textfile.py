"""Textfile collector: node_exporter's semantics, checked against the real node_exporter."""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import pytest

from exporter.collector import CollectorContext
from exporter.collectors.textfile import TextfileCollector, TextfileConfig
from servicekit.loader import Loader
from tests.conftest import FIXTURES, require_binary
from tests.metrics import Series, fetch_metrics, matching, parse_series
from tests.procs import free_port, node_exporter_args, running
from tests.registry import exposition

_NODE_OWN = ("go_", "process_", "promhttp_", "node_exporter_", "node_scrape_collector_")


def series_of(text: str) -> Series:
    """The samples in `text`, without node_exporter's own."""
    return {k: v for k, v in parse_series(text).items() if not k[0].startswith(_NODE_OWN)}


def collect_text(*dirs: Path) -> str:
    cfg = TextfileConfig(directories=[str(d) for d in dirs])
    return exposition(TextfileCollector(CollectorContext(config=cfg)))


@pytest.fixture
def textdir(tmp_path: Path) -> Path:
    d = tmp_path / "textfile"
    shutil.copytree(FIXTURES / "textfile", d)
    return d


def same(a: Series, b: Series) -> bool:
    if a.keys() != b.keys():
        return False
    return all(a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a)


def node_exporter_textfile(directory: Path) -> str:
    """What the real node_exporter exports for a textfile directory."""
    binary = require_binary("node_exporter")
    port = free_port()
    args = node_exporter_args(
        binary, port, ["textfile"], f"--collector.textfile.directory={directory}"
    )
    with running(args, directory.parent / f"node_exporter-{port}.log", port=port):
        return fetch_metrics(port)


def test_matches_node_exporter(textdir: Path) -> None:
    theirs = node_exporter_textfile(textdir)
    ours = series_of(collect_text(textdir))
    expected = series_of(theirs)
    assert same(ours, expected), (sorted(ours.items()), sorted(expected.items()))
    # The comparison covers the interesting cases, not just an empty directory.
    assert ours[("node_textfile_scrape_error", ())] == 1
    assert ("app_jobs_done", (("queue", "slow"),)) in ours
    assert ("with_timestamp", ()) not in ours
    assert ("good_before_error", ()) not in ours


def test_mtime_and_help(textdir: Path) -> None:
    os.utime(textdir / "backup.prom", (1_700_000_000.123456, 1_700_000_000.123456))
    text = collect_text(textdir)
    s = series_of(text)
    assert s[("node_textfile_mtime_seconds", (("file", f"{textdir}/backup.prom"),))] == 1.7e9
    files = {dict(k[1])["file"] for k in s if k[0] == "node_textfile_mtime_seconds"}
    assert files == {f"{textdir}/{n}" for n in ("backup.prom", "jobs.prom", "jobs_more.prom")}
    assert "# HELP backup_last_success_timestamp_seconds When the last backup finished." in text
    assert (
        f"# HELP app_jobs_done Metric read from {textdir}/jobs.prom, {textdir}/jobs_more.prom"
        in text
    )


def test_all_good_means_no_error(textdir: Path) -> None:
    for name in ("malformed.prom", "timestamps.prom"):
        (textdir / name).unlink()
    assert series_of(collect_text(textdir))[("node_textfile_scrape_error", ())] == 0


def test_missing_directory_is_an_error_not_a_crash(tmp_path: Path) -> None:
    s = series_of(collect_text(tmp_path / "absent"))
    assert s == {("node_textfile_scrape_error", ()): 1}


def test_missing_directory_matches_node_exporter(tmp_path: Path) -> None:
    """A typo in the directory is a scrape error, but not a failed collector (as upstream)."""
    theirs = node_exporter_textfile(tmp_path / "absent")
    success = 'node_scrape_collector_success{collector="textfile"} 1'
    assert success in theirs.splitlines()
    assert series_of(theirs) == series_of(collect_text(tmp_path / "absent"))


def test_no_directory_configured() -> None:
    assert series_of(collect_text()) == {("node_textfile_scrape_error", ()): 0}


def test_duplicate_series_across_files_skips_the_later_file(tmp_path: Path) -> None:
    (tmp_path / "a.prom").write_text('dup{x="1"} 1\n')
    (tmp_path / "b.prom").write_text('dup{x="1"} 2\nonly_in_b 1\n')
    s = series_of(collect_text(tmp_path))
    assert s[("dup", (("x", "1"),))] == 1
    assert ("only_in_b", ()) not in s
    assert s[("node_textfile_scrape_error", ())] == 1


def test_type_conflict_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.prom").write_text("# TYPE m gauge\nm 1\n")
    (tmp_path / "b.prom").write_text('# TYPE m counter\nm{y="2"} 2\n')
    s = series_of(collect_text(tmp_path))
    assert s[("m", ())] == 1
    assert s[("node_textfile_scrape_error", ())] == 1


def test_file_size_cap(tmp_path: Path) -> None:
    (tmp_path / "big.prom").write_text("x 1\n" * 100)
    cfg = TextfileConfig(directory=str(tmp_path), max_file_bytes=50)
    collector = TextfileCollector(CollectorContext(config=cfg))
    values = {m.name: m.samples for m in collector.collect()}
    assert values["node_textfile_scrape_error"][0].value == 1
    assert "x" not in values


def test_config_validation() -> None:
    loader = Loader("x.yml")
    loader.load(TextfileConfig, {"directory": "", "max_file_bytes": 0})
    assert {p.key for p in loader.problems} == {"directory", "max_file_bytes"}


def test_fifo_device_and_directory_are_skipped_and_the_rest_served(tmp_path: Path) -> None:
    from structlog.testing import capture_logs

    (tmp_path / "good.prom").write_text("good 1\n")
    os.mkfifo(tmp_path / "pipe.prom")  # opening it would block the collector for good
    (tmp_path / "zero.prom").symlink_to("/dev/zero")
    (tmp_path / "dir.prom").mkdir()
    collector = TextfileCollector(CollectorContext(config=TextfileConfig(directory=str(tmp_path))))
    with capture_logs() as logs:
        for _ in range(3):
            found = series_of(exposition(collector))
    assert found[("good", ())] == 1
    assert found[("node_textfile_scrape_error", ())] == 1
    skipped = {
        dict(k)["file"]: dict(k)["reason"] for k in matching(found, "tocsin_textfile_skipped")
    }
    assert skipped == {
        str(tmp_path / "pipe.prom"): "fifo",
        str(tmp_path / "zero.prom"): "character device",
        str(tmp_path / "dir.prom"): "directory",
    }
    assert len([e for e in logs if e["event"] == "file_skipped"]) == 3
