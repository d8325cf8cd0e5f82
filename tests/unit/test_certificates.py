"""Certificates collector: real PEM/DER files generated here, read through the collector."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from exporter.certs import CertificateError, parse_certificates
from exporter.collector import Collector, CollectorContext, HostPaths
from exporter.collectors.certificates import CertificatesCollector, CertificatesConfig
from servicekit.loader import Loader
from tests.certs import cert_pem
from tests.metrics import matching
from tests.registry import samples

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def collector(tmp_path: Path, cfg: CertificatesConfig, rootfs: Path = Path("/")) -> Collector:
    ctx = CollectorContext(paths=HostPaths(rootfs=rootfs), state_dir=tmp_path / "state", config=cfg)
    return CertificatesCollector(ctx)


def test_expired_expiring_valid_and_bundle(tmp_path: Path) -> None:
    day = dt.timedelta(days=1)
    (tmp_path / "expired.pem").write_bytes(cert_pem("old.example", NOW - 30 * day, NOW - day))
    (tmp_path / "expiring.crt").write_bytes(cert_pem("soon.example", NOW - day, NOW + 5 * day))
    bundle = cert_pem("leaf.example", NOW - day, NOW + 365 * day, serial=0xABC)
    bundle += cert_pem("ca.example", NOW - day, NOW + 3650 * day, serial=0xDEF)
    (tmp_path / "bundle.pem").write_bytes(bundle)
    (tmp_path / "notes.txt").write_text("not a certificate, and not a cert extension")

    c = collector(tmp_path, CertificatesConfig(paths=[str(tmp_path)]))
    found = samples(c)
    not_after = matching(found, "tocsin_cert_not_after_timestamp_seconds")
    assert len(not_after) == 4
    expired = {dict(k)["subject_cn"]: v for k, v in matching(found, "tocsin_cert_expired").items()}
    assert expired == {"old.example": 1, "soon.example": 0, "leaf.example": 0, "ca.example": 0}
    leaf = next(k for k in not_after if dict(k)["subject_cn"] == "leaf.example")
    assert dict(leaf) == {
        "path": str(tmp_path / "bundle.pem"),
        "subject_cn": "leaf.example",
        "issuer_cn": "leaf.example",
        "serial": "abc",
    }
    assert not_after[leaf] == (NOW + 365 * day).timestamp()
    not_before = matching(found, "tocsin_cert_not_before_timestamp_seconds")
    assert not_before[leaf] == (NOW - day).timestamp()
    errors = matching(found, "tocsin_cert_read_errors_total")
    assert set(errors.values()) == {0.0}
    assert (("path", str(tmp_path / "notes.txt")),) not in errors


def test_glob_and_rootfs_paths_are_reported_as_host_paths(tmp_path: Path) -> None:
    certs = tmp_path / "etc" / "ssl"
    certs.mkdir(parents=True)
    day = dt.timedelta(days=1)
    (certs / "a.pem").write_bytes(cert_pem("a", NOW - day, NOW + day))
    (certs / "b.pem").write_bytes(cert_pem("b", NOW - day, NOW + day))
    c = collector(tmp_path, CertificatesConfig(paths=["/etc/ssl/*.pem"]), rootfs=tmp_path)
    paths = {dict(k)["path"] for k in matching(samples(c), "tocsin_cert_expired")}
    assert paths == {"/etc/ssl/a.pem", "/etc/ssl/b.pem"}


def test_broken_and_missing_files_count_errors_and_retry_on_interval(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    missing = tmp_path / "missing.pem"
    cfg = CertificatesConfig(paths=[str(bad), str(missing)])
    c = collector(tmp_path, cfg)
    errors = matching(samples(c), "tocsin_cert_read_errors_total")
    assert errors == {(("path", str(bad)),): 1.0, (("path", str(missing)),): 1.0}
    # Unchanged and inside retry_interval: not read again, not counted again.
    errors = matching(samples(c), "tocsin_cert_read_errors_total")
    assert errors[(("path", str(bad)),)] == 1.0
    # Retry due: counted again while still broken.
    cfg.retry_interval = 0.0  # type: ignore[assignment]
    errors = matching(samples(c), "tocsin_cert_read_errors_total")
    assert errors[(("path", str(bad)),)] == 2.0
    # Fixed: parsed, and the error counter stays (it is a counter).
    day = dt.timedelta(days=1)
    bad.write_bytes(cert_pem("fixed", NOW - day, NOW + day))
    found = samples(c)
    assert matching(found, "tocsin_cert_read_errors_total")[(("path", str(bad)),)] == 2.0
    assert [dict(k)["subject_cn"] for k in matching(found, "tocsin_cert_expired")] == ["fixed"]


def test_reparses_only_when_the_file_changes(tmp_path: Path) -> None:
    day = dt.timedelta(days=1)
    path = tmp_path / "c.pem"
    path.write_bytes(cert_pem("one", NOW - day, NOW + day))
    c = collector(tmp_path, CertificatesConfig(paths=[str(path)]))
    assert [dict(k)["subject_cn"] for k in matching(samples(c), "tocsin_cert_expired")] == ["one"]
    st = path.stat()
    # Same size, same mtime, same inode: the cached parse stands (no re-read per scrape).
    path.write_bytes(b"x" * st.st_size)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    found = samples(c)
    assert [dict(k)["subject_cn"] for k in matching(found, "tocsin_cert_expired")] == ["one"]
    assert matching(found, "tocsin_cert_read_errors_total")[(("path", str(path)),)] == 0.0
    # mtime changed: read again.
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    found = samples(c)
    assert matching(found, "tocsin_cert_expired") == {}
    assert matching(found, "tocsin_cert_read_errors_total")[(("path", str(path)),)] == 1.0
    path.write_bytes(cert_pem("two", NOW - day, NOW + day))
    assert [dict(k)["subject_cn"] for k in matching(samples(c), "tocsin_cert_expired")] == ["two"]


def test_der_and_x509_label_and_private_keys() -> None:
    day = dt.timedelta(days=1)
    pem = cert_pem("der.example", NOW - day, NOW + day)
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    assert [c.subject_cn for c in parse_certificates(der)] == ["der.example"]
    legacy = pem.replace(b"BEGIN CERTIFICATE", b"BEGIN X509 CERTIFICATE").replace(
        b"END CERTIFICATE", b"END X509 CERTIFICATE"
    )
    assert [c.subject_cn for c in parse_certificates(legacy)] == ["der.example"]
    key_only = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    try:
        parse_certificates(key_only)
    except CertificateError as exc:
        assert "no CERTIFICATE" in str(exc)
    else:
        raise AssertionError("a key-only file must be an error")


def test_config_validation_names_the_key() -> None:
    loader = Loader("exporter.yml")
    loader.load(CertificatesConfig, {"paths": ["relative.pem"], "max_files": 0}, "collectors.c")
    messages = {p.key: p.message for p in loader.problems}
    assert "collectors.c.paths[0]" in messages
    assert "collectors.c.max_files" in messages


def test_paths_matching_nothing_are_exported_and_logged_once(tmp_path: Path) -> None:
    from structlog.testing import capture_logs

    day = dt.timedelta(days=1)
    certs = tmp_path / "etc" / "ssl"
    certs.mkdir(parents=True)
    (certs / "a.pem").write_bytes(cert_pem("a", NOW - day, NOW + day))
    (tmp_path / "empty").mkdir()
    patterns = [
        "/etc/ssl/*.pem",
        "/etc/ssl/*.crt",  # a glob that matches nothing
        "/etc/ssl",  # a directory
        "/empty",  # a directory without certificates
        "/etc/sll/a.pem",  # a typo in a literal path
    ]
    c = collector(tmp_path, CertificatesConfig(paths=patterns), rootfs=tmp_path)
    with capture_logs() as logs:
        found = samples(c)
        samples(c)
        samples(c)
    files = {dict(k)["pattern"]: v for k, v in matching(found, "tocsin_cert_pattern_files").items()}
    assert files == {
        "/etc/ssl/*.pem": 1.0,
        "/etc/ssl/*.crt": 0.0,
        "/etc/ssl": 1.0,
        "/empty": 0.0,
        "/etc/sll/a.pem": 0.0,
    }
    unmatched = [e for e in logs if e["event"] == "certificate_path_unmatched"]
    assert {e["pattern"]: e["reason"] for e in unmatched} == {
        "/etc/ssl/*.crt": "no file matches the glob",
        "/empty": "no file ending in .pem, .crt, .cer in the directory",
        "/etc/sll/a.pem": "no such file or directory",
    }
    assert all(e["log_level"] == "warning" for e in unmatched)
    # Fixing one is logged once as well; the others stay quiet.
    (certs / "b.crt").write_bytes(cert_pem("b", NOW - day, NOW + day))
    with capture_logs() as logs:
        found = samples(c)
        samples(c)
    assert [(e["event"], e["pattern"]) for e in logs] == [
        ("certificate_path_matched", "/etc/ssl/*.crt")
    ]
    files = {dict(k)["pattern"]: v for k, v in matching(found, "tocsin_cert_pattern_files").items()}
    assert files["/etc/ssl/*.crt"] == 1.0 and files["/etc/ssl"] == 2.0


def test_files_past_max_files_are_logged_once(tmp_path: Path) -> None:
    from structlog.testing import capture_logs

    day = dt.timedelta(days=1)
    for name in "abc":
        (tmp_path / f"{name}.pem").write_bytes(cert_pem(name, NOW - day, NOW + day))
    c = collector(tmp_path, CertificatesConfig(paths=[str(tmp_path)], max_files=2))
    with capture_logs() as logs:
        found = samples(c)
        samples(c)
    assert len(matching(found, "tocsin_cert_expired")) == 2
    [over] = [e for e in logs if e["event"] == "certificate_files_over_limit"]
    assert over["found"] == 3 and over["max_files"] == 2


def test_special_files_in_a_glob_are_skipped_and_reported_once(tmp_path: Path) -> None:
    from structlog.testing import capture_logs

    day = dt.timedelta(days=1)
    (tmp_path / "good.pem").write_bytes(cert_pem("good.example", NOW - day, NOW + day))
    (tmp_path / "zero.pem").symlink_to("/dev/zero")  # never ends: would fill memory
    os.mkfifo(tmp_path / "pipe.pem")  # opening it would block for good
    (tmp_path / "huge.pem").write_bytes(b"x" * 4096)
    cfg = CertificatesConfig(paths=[str(tmp_path / "*.pem")], max_file_bytes=2048)
    c = collector(tmp_path, cfg)
    with capture_logs() as logs:
        for _ in range(3):
            found = samples(c)
    not_after = matching(found, "tocsin_cert_not_after_timestamp_seconds")
    assert [dict(k)["subject_cn"] for k in not_after] == ["good.example"]
    skipped = {
        dict(k)["path"]: dict(k)["reason"] for k in matching(found, "tocsin_cert_file_skipped")
    }
    assert skipped == {
        str(tmp_path / "zero.pem"): "character device",
        str(tmp_path / "pipe.pem"): "fifo",
        str(tmp_path / "huge.pem"): "too large",
    }
    assert sorted(e["path"] for e in logs if e["event"] == "file_skipped") == sorted(skipped)
    assert set(matching(found, "tocsin_cert_read_errors_total").values()) == {0.0}
    (tmp_path / "huge.pem").unlink()
    with capture_logs() as logs:
        found = samples(c)
    assert [e["path"] for e in logs if e["event"] == "file_no_longer_skipped"] == [
        str(tmp_path / "huge.pem")
    ]


@pytest.mark.timeout(60)
def test_begin_markers_without_end_are_refused_in_linear_time() -> None:
    import time

    # The lazy BEGIN.+?END regex this replaced took 13 s on 224 KB of such lines.
    data = b"-----BEGIN CERTIFICATE-----\n" * 150_000
    started = time.monotonic()
    with pytest.raises(CertificateError):
        parse_certificates(data)
    assert time.monotonic() - started < 5
