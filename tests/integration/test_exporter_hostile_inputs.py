"""Hostile things to read, through a real exporter process: a 10 MB line that matches no
format, a /dev/zero symlink and FIFOs among certificates and textfiles. The exporter stays
responsive, serves everything else, reports what it skipped, and stops on SIGTERM."""

from __future__ import annotations

import datetime as dt
import os
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.certs import cert_pem
from tests.metrics import matching, scrape, value
from tests.procs import run_exporter

pytestmark = pytest.mark.integration

GOOD_LINE = '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /ok HTTP/1.1" 200 5 "-" "curl"\n'


def _config(tmp_path: Path, collectors: dict[str, object]) -> Path:
    path = tmp_path / "exporter.yml"
    settings = {"state_dir": str(tmp_path / "state"), "min_interval": "0s"}
    path.write_text(yaml.safe_dump({"global": settings, "collectors": collectors}))
    return path


def _healthy_seconds(port: int) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/healthy", timeout=30) as r:
        assert r.status == 200
    return time.monotonic() - started


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.timeout(180)
def test_ten_megabyte_unmatched_line_does_not_stall_the_exporter(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(GOOD_LINE)
    cfg = _config(
        tmp_path,
        {"accesslog": {"enabled": True, "logs": [{"name": "web", "path": str(log)}]}},
    )
    args = ["--config.file", str(cfg), "--collector.disable-defaults", "--collector.accesslog"]
    with run_exporter(args, tmp_path) as proc:
        # An unclosed quote and no status: it once cost time quadratic in its length.
        hostile = '5.6.7.8 - - [10/Oct/2000:13:55:36 -0700] "GET /' + "a" * (10 << 20) + "\n"
        with log.open("a") as f:
            f.write(hostile + GOOD_LINE)
        latencies = []
        deadline = time.monotonic() + 60
        while True:
            latencies.append(_healthy_seconds(proc.port))
            _, found = scrape(proc.port)
            lines = matching(found, "tocsin_log_lines_total", log="web")
            if sum(lines.values()) == 2:  # the hostile line, then the good one after it
                break
            assert time.monotonic() < deadline, proc.log()[-2000:]
            time.sleep(0.2)
        assert value(found, "tocsin_log_lines_total", log="web", outcome="parsed") == 1.0
        assert value(found, "tocsin_log_lines_total", log="web", outcome="unparsed") == 1.0
        assert value(found, "tocsin_log_long_lines_total", log="web") == 1.0
        assert max(latencies) < 2, latencies
        assert _rss_bytes(proc.proc.pid) < 400 << 20
        started = time.monotonic()
        assert proc.stop(timeout=15) == 0
        assert time.monotonic() - started < 15


@pytest.mark.timeout(180)
def test_devices_and_fifos_among_certificates_and_textfiles_are_skipped(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "good.pem").write_bytes(cert_pem("good.example", now, now + dt.timedelta(days=9)))
    (certs / "zero.pem").symlink_to("/dev/zero")
    os.mkfifo(certs / "pipe.pem")
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    (textfiles / "good.prom").write_text("tocsin_test_good 1\n")
    (textfiles / "zero.prom").symlink_to("/dev/zero")
    os.mkfifo(textfiles / "pipe.prom")
    cfg = _config(
        tmp_path,
        {
            "certificates": {"enabled": True, "paths": [str(certs / "*.pem")]},
            "textfile": {"directory": str(textfiles)},
        },
    )
    args = ["--config.file", str(cfg), "--collector.disable-defaults"]
    args += ["--collector.certificates", "--collector.textfile"]
    with run_exporter(args, tmp_path) as proc:
        for _ in range(3):
            started = time.monotonic()
            _, found = scrape(proc.port)
            assert time.monotonic() - started < 10
        for name in ("certificates", "textfile"):
            success = value(found, "tocsin_exporter_collector_success", collector=name)
            assert success == 1.0, (name, proc.log()[-2000:])
        not_after = matching(found, "tocsin_cert_not_after_timestamp_seconds")
        assert [dict(k)["subject_cn"] for k in not_after] == ["good.example"]
        assert value(found, "tocsin_test_good") == 1.0
        cert_skipped = matching(found, "tocsin_cert_file_skipped")
        assert {dict(k)["path"]: dict(k)["reason"] for k in cert_skipped} == {
            str(certs / "zero.pem"): "character device",
            str(certs / "pipe.pem"): "fifo",
        }
        text_skipped = matching(found, "tocsin_textfile_skipped")
        assert {dict(k)["file"]: dict(k)["reason"] for k in text_skipped} == {
            str(textfiles / "zero.prom"): "character device",
            str(textfiles / "pipe.prom"): "fifo",
        }
        assert _rss_bytes(proc.proc.pid) < 400 << 20
        assert proc.log().count("file_skipped") == 4  # once each, not once per scrape
