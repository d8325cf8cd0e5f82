"""Inputs that are missing or cannot be written are reported, through a real exporter.

Review item 12: a typo in the access log, auth log or certificate path, or a state
directory that cannot be written, used to leave no log line and no metric, so brute-force
and expiry alerts went silent. Here every such input is wrong at start, the test checks
the metrics and the exporter's log (one line per problem, not one per poll), then fixes
them and checks the recovery.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from pathlib import Path

from tests.certs import cert_pem
from tests.metrics import fetch_metrics, wait_until
from tests.procs import run_exporter

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
SSH_FAILURE = (
    "Mar  3 10:00:00 host sshd[42]: Failed password for root from 192.0.2.7 port 2222 ssh2\n"
)
SSH_FAILED = ("tocsin_auth_events_total", (("event", "failed_password"), ("service", "sshd")))
ACCESS = '192.0.2.9 - - [10/Oct/2024:13:55:36 +0000] "GET /x HTTP/1.1" 200 10 "-" "ua" 0.02\n'


def events(log: str, name: str) -> list[str]:
    return [line for line in log.splitlines() if re.search(rf"\bevent={name}\b", line)]


def test_missing_inputs_and_unwritable_state_dir_are_reported(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    certs = tmp_path / "certs"
    certs.mkdir()
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state directory should be")
    access_log, auth_log = logs / "access.log", logs / "auth.log"
    config = tmp_path / "exporter.yml"
    config.write_text(
        json.dumps(
            {
                "global": {"state_dir": str(blocker), "min_interval": "0s"},
                "collectors": {
                    "accesslog": {
                        "poll_interval": "20ms",
                        "logs": [{"name": "web", "path": str(access_log)}],
                    },
                    "authlog": {"path": str(auth_log), "poll_interval": "20ms"},
                    "certificates": {"paths": [f"{certs}/*.pem"]},
                },
            }
        )
    )
    names = ("accesslog", "authlog", "certificates")
    flags = ["--collector.disable-defaults", *(f"--collector.{n}" for n in names)]
    web = (("log", "web"),)
    with run_exporter([f"--config.file={config}", *flags], tmp_path) as exp:
        found = wait_until(
            exp,
            lambda s: (
                s.get(("tocsin_log_file_present", web)) == 0
                and s.get(("tocsin_auth_log_file_present", ())) == 0
            ),
        )
        assert found[("tocsin_cert_pattern_files", (("pattern", f"{certs}/*.pem"),))] == 0
        # A not-yet-created log is normal for a follower, so the collectors still succeed
        # (as node_exporter's textfile collector does); the gauges carry the problem.
        for name in names:
            assert found[("tocsin_exporter_collector_success", (("collector", name),))] == 1
        # Let the followers poll many times: the problem is still logged only once.
        time.sleep(0.5)
        fetch_metrics(exp.port)

        access_log.write_text(ACCESS)
        auth_log.write_text(SSH_FAILURE * 3)
        (certs / "site.pem").write_bytes(
            cert_pem("site.example", NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=1))
        )
        found = wait_until(
            exp,
            lambda s: (
                s.get(("tocsin_log_file_present", web)) == 1
                and s.get(("tocsin_auth_log_file_present", ())) == 1
                and s.get(SSH_FAILED) == 3
                and s.get(("tocsin_http_request_duration_seconds_count", web)) == 1
            ),
        )
        assert found[("tocsin_cert_pattern_files", (("pattern", f"{certs}/*.pem"),))] == 1
        assert found[("tocsin_log_state_write_errors_total", web)] >= 1
        assert found[("tocsin_auth_log_state_write_errors_total", ())] >= 1
        log = exp.log()

    missing = events(log, "follow_file_missing")
    assert len(missing) == 2, log
    assert any(f"path={access_log}" in line for line in missing)
    assert any(f"path={auth_log}" in line for line in missing)
    assert all("level=warning" in line for line in missing)
    assert len(events(log, "follow_file_available")) == 2, log
    [unmatched] = events(log, "certificate_path_unmatched")
    assert "level=warning" in unmatched and f"pattern={certs}/*.pem" in unmatched
    assert len(events(log, "certificate_path_matched")) == 1, log
    # One line per state file (access log, auth log), however many writes failed.
    assert len(events(log, "follow_state_write_failed")) == 2, log
