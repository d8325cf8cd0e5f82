"""Certificates, listeners, sessions and file integrity end to end over /metrics.

The host is a directory given as --path.rootfs, holding PEM files made here (expired,
expiring, valid), a utmp file in glibc's layout and watched files the test changes; the
listening sockets are real ones opened by the test.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from exporter.collectors.sessions import UTMP_RECORD
from tests.certs import cert_pem
from tests.metrics import matching, poll, scrape, value
from tests.procs import run_exporter, run_module

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DAY = dt.timedelta(days=1)


def utmp(entries: list[tuple[int, int, str, str, str]]) -> bytes:
    return b"".join(
        UTMP_RECORD.pack(
            t,
            pid,
            line.encode(),
            b"",
            user.encode(),
            host.encode(),
            0,
            0,
            0,
            1_700_000_000,
            0,
            b"\0" * 16,
            b"\0" * 20,
        )
        for t, pid, line, user, host in entries
    )


@pytest.fixture
def host(tmp_path: Path) -> Path:
    root = tmp_path / "host"
    (root / "etc" / "ssl" / "private").mkdir(parents=True)
    (root / "run").mkdir()
    ssl_dir = root / "etc" / "ssl"
    (ssl_dir / "expired.pem").write_bytes(cert_pem("expired.example", NOW - 90 * DAY, NOW - DAY))
    expiring = cert_pem("expiring.example", NOW - 80 * DAY, NOW + 3 * DAY)
    (ssl_dir / "expiring.pem").write_bytes(expiring)
    (ssl_dir / "chain.crt").write_bytes(
        cert_pem("valid.example", NOW - DAY, NOW + 200 * DAY)
        + cert_pem("Test CA", NOW - DAY, NOW + 900 * DAY)
    )
    (ssl_dir / "private" / "broken.pem").write_text(
        "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"
    )
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (root / "etc" / "sudoers").write_text("root ALL=(ALL:ALL) ALL\n")
    (root / "run" / "utmp").write_bytes(
        utmp(
            [
                (2, 0, "~", "reboot", "6.1.0-18-amd64"),
                (7, 1201, "tty1", "alice", ""),
                (7, 1300, "pts/0", "bob", "192.0.2.44"),
                (7, 1301, "pts/1", "carol", "2001:db8::7"),
                (8, 1302, "pts/2", "", ""),
            ]
        )
    )
    return root


@pytest.fixture
def sockets() -> Iterator[tuple[int, int]]:
    allowed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    allowed.bind(("127.0.0.1", 0))
    allowed.listen()
    rogue = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    rogue.bind(("127.0.0.1", 0))
    rogue.listen()
    try:
        yield allowed.getsockname()[1], rogue.getsockname()[1]
    finally:
        allowed.close()
        rogue.close()


def config(tmp_path: Path, allowed_port: int) -> Path:
    # Only the allowed port is on the list; other listeners of this shared machine may show
    # up as unexpected too, so the test looks at its own two ports.
    allow = [{"port": allowed_port, "protocol": "tcp"}]
    path = tmp_path / "exporter.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "global": {"state_dir": str(tmp_path / "state"), "min_interval": "0s"},
                "collectors": {
                    "certificates": {
                        "enabled": True,
                        "paths": ["/etc/ssl", "/etc/ssl/private/*.pem"],
                    },
                    "fileintegrity": {
                        "enabled": True,
                        "paths": ["/etc/passwd", "/etc/sudoers", "/etc/shadow"],
                    },
                    "listeners": {
                        "enabled": True,
                        "allowlist": allow,
                        "max_unexpected_series": 1000,
                    },
                    "sessions": {"enabled": True},
                },
            }
        )
    )
    return path


def test_security_collectors_through_metrics(
    tmp_path: Path, host: Path, sockets: tuple[int, int]
) -> None:
    allowed_port, rogue_port = sockets
    cfg = config(tmp_path, allowed_port)
    args = ["--config.file", str(cfg), "--collector.disable-defaults", f"--path.rootfs={host}"]
    with run_exporter(args, tmp_path) as exporter:
        text, found = scrape(exporter.port)
        for name in ("certificates", "fileintegrity", "listeners", "sessions"):
            assert value(found, "tocsin_exporter_collector_success", collector=name) == 1.0, (
                name,
                exporter.log(),
            )

        # Certificates: host paths, one series per certificate of a bundle.
        expired = {
            dict(k)["subject_cn"]: v for k, v in matching(found, "tocsin_cert_expired").items()
        }
        assert expired == {
            "expired.example": 1.0,
            "expiring.example": 0.0,
            "valid.example": 0.0,
            "Test CA": 0.0,
        }
        (soon,) = matching(
            found, "tocsin_cert_not_after_timestamp_seconds", subject_cn="expiring.example"
        ).items()
        assert dict(soon[0])["path"] == "/etc/ssl/expiring.pem"
        assert soon[1] == (NOW + 3 * DAY).timestamp()
        assert (
            value(found, "tocsin_cert_read_errors_total", path="/etc/ssl/private/broken.pem") == 1.0
        )
        assert value(found, "tocsin_cert_read_errors_total", path="/etc/ssl/chain.crt") == 0.0

        # Sessions: counted, never named.
        assert value(found, "tocsin_logged_in_users", type="local") == 1.0
        assert value(found, "tocsin_logged_in_users", type="remote") == 2.0
        for pii in ("alice", "bob", "carol", "192.0.2.44", "2001:db8::7"):
            assert pii not in text

        # Listeners: the rogue socket is reported with its process, the allowed one is not.
        rogue = matching(found, "tocsin_unexpected_listener_info", port=str(rogue_port))
        comm = Path("/proc/self/comm").read_text().strip()
        assert rogue == {
            (
                ("address", "127.0.0.1"),
                ("port", str(rogue_port)),
                ("process", comm),
                ("protocol", "tcp"),
            ): 1.0
        }
        assert matching(found, "tocsin_unexpected_listener_info", port=str(allowed_port)) == {}
        assert (value(found, "tocsin_unexpected_listeners") or 0) >= 1
        assert (value(found, "tocsin_listening_sockets", protocol="tcp") or 0) >= 2

        # File integrity: baseline at first sight, then a change, a deletion, a creation.
        assert value(found, "tocsin_file_checksum_changed", path="/etc/passwd") == 0.0
        assert value(found, "tocsin_file_missing", path="/etc/shadow") == 1.0
        mtime = value(found, "tocsin_file_mtime_seconds", path="/etc/sudoers")
        assert mtime == (host / "etc" / "sudoers").stat().st_mtime
        with (host / "etc" / "passwd").open("a") as f:
            f.write("backdoor:x:0:0::/:/bin/sh\n")
        (host / "etc" / "sudoers").unlink()
        (host / "etc" / "shadow").write_text("root:*:19000:0:99999:7:::\n")
        found = poll(
            exporter.port,
            lambda f: value(f, "tocsin_file_checksum_changed", path="/etc/passwd") == 1.0,
        )
        assert value(found, "tocsin_file_checksum_changed", path="/etc/passwd") == 1.0
        assert value(found, "tocsin_file_missing", path="/etc/sudoers") == 1.0
        assert value(found, "tocsin_file_missing", path="/etc/shadow") == 0.0
        assert value(found, "tocsin_file_checksum_changed", path="/etc/shadow") == 0.0

    # A restart keeps the recorded baseline: the changed passwd is still flagged.
    with run_exporter(args, tmp_path) as exporter:
        _, found = scrape(exporter.port)
        assert value(found, "tocsin_file_checksum_changed", path="/etc/passwd") == 1.0
        # Putting the original content back clears it.
        (host / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
        found = poll(
            exporter.port,
            lambda f: value(f, "tocsin_file_checksum_changed", path="/etc/passwd") == 0.0,
        )
        assert value(found, "tocsin_file_checksum_changed", path="/etc/passwd") == 0.0


def test_config_errors_name_file_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "collectors": {
                    "fileintegrity": {
                        "paths": ["/etc/passwd"],
                        "expected_sha256": {"/etc/passwd": "abc"},
                    },
                    "listeners": {"allowlist": [{"port": "ssh"}]},
                    "certificates": {"paths": ["certs/*.pem"]},
                    "processes": {"groups": [{"name": "{nope}", "comm": "x"}]},
                    "probes": {"probes": [{"name": "x", "target": "gopher://x"}]},
                }
            }
        )
    )
    proc = run_module("exporter", "--config.file", str(cfg), "--check-config")
    assert proc.returncode == 2
    err = proc.stderr
    assert "Traceback" not in err
    for key in (
        "collectors.fileintegrity.expected_sha256./etc/passwd",
        "collectors.listeners.allowlist[0].port",
        "collectors.certificates.paths[0]",
        "collectors.processes.groups[0].name",
        "collectors.probes.probes[0].target",
    ):
        assert f"{cfg}: {key}:" in err, (key, err)
