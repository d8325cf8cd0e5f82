"""File-integrity collector against real files changed by the test."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from exporter.collector import Collector, CollectorContext, HostPaths
from exporter.collectors import fileintegrity
from exporter.collectors.fileintegrity import FileIntegrityCollector, FileIntegrityConfig
from servicekit.loader import Loader
from tests.metrics import by_label, matching
from tests.registry import exposition, registry, samples


def values(collector: Collector, name: str) -> dict[str, float]:
    """path -> value of one metric, rendered through prometheus_client and parsed back."""
    return by_label(samples(collector), name, "path")


def make(tmp_path: Path, cfg: FileIntegrityConfig, rootfs: Path = Path("/")) -> Collector:
    ctx = CollectorContext(paths=HostPaths(rootfs=rootfs), state_dir=tmp_path / "state", config=cfg)
    return FileIntegrityCollector(ctx)


def test_change_missing_restart_and_revert(tmp_path: Path) -> None:
    watched = tmp_path / "passwd"
    watched.write_text("root:x:0:0::/root:/bin/sh\n")
    gone = tmp_path / "sudoers"
    cfg = FileIntegrityConfig(paths=[str(watched), str(gone)])
    c = make(tmp_path, cfg)
    assert values(c, "tocsin_file_checksum_changed") == {str(watched): 0.0}
    assert values(c, "tocsin_file_missing") == {str(watched): 0.0, str(gone): 1.0}
    assert values(c, "tocsin_file_mtime_seconds") == {str(watched): watched.stat().st_mtime}

    watched.write_text("root:x:0:0::/root:/bin/sh\nevil:x:0:0::/:/bin/sh\n")
    assert values(c, "tocsin_file_checksum_changed") == {str(watched): 1.0}

    # A restart keeps the old baseline: the change is still reported.
    state = json.loads((tmp_path / "state" / fileintegrity.STATE_FILE).read_text())
    original = hashlib.sha256(b"root:x:0:0::/root:/bin/sh\n").hexdigest()
    assert state["baselines"] == {str(watched): original}
    restarted = make(tmp_path, cfg)
    assert values(restarted, "tocsin_file_checksum_changed") == {str(watched): 1.0}

    # Back to the original content: no longer changed.
    watched.write_text("root:x:0:0::/root:/bin/sh\n")
    assert values(restarted, "tocsin_file_checksum_changed") == {str(watched): 0.0}

    # A file that appears later gets its baseline when first seen.
    gone.write_text("root ALL=(ALL) ALL\n")
    assert values(restarted, "tocsin_file_missing")[str(gone)] == 0.0
    assert values(restarted, "tocsin_file_checksum_changed")[str(gone)] == 0.0
    watched.unlink()
    assert values(restarted, "tocsin_file_missing")[str(watched)] == 1.0
    assert str(watched) not in values(restarted, "tocsin_file_checksum_changed")


def test_configured_digest_wins_over_first_sight(tmp_path: Path) -> None:
    f = tmp_path / "sshd_config"
    f.write_text("PermitRootLogin yes\n")
    good = hashlib.sha256(b"PermitRootLogin no\n").hexdigest()
    c = make(tmp_path, FileIntegrityConfig(paths=[str(f)], expected_sha256={str(f): good}))
    assert values(c, "tocsin_file_checksum_changed") == {str(f): 1.0}
    f.write_text("PermitRootLogin no\n")
    assert values(c, "tocsin_file_checksum_changed") == {str(f): 0.0}


def test_hashes_only_when_stat_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "f"
    f.write_text("a")
    c = make(tmp_path, FileIntegrityConfig(paths=[str(f)]))
    hashed: list[Path] = []
    real = FileIntegrityCollector._hash

    def counting(self: FileIntegrityCollector, local: Path) -> str:
        hashed.append(local)
        return real(self, local)

    monkeypatch.setattr(FileIntegrityCollector, "_hash", counting)
    values(c, "tocsin_file_checksum_changed")
    values(c, "tocsin_file_checksum_changed")
    assert len(hashed) == 1
    f.write_text("b")
    values(c, "tocsin_file_checksum_changed")
    assert len(hashed) == 2


def test_unreadable_file_counts_an_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target = tmp_path / "loop"
        target.symlink_to(target)  # stat fails (ELOOP) even for root
    else:
        target = tmp_path / "secret"
        target.write_text("x")
        target.chmod(0)
    c = make(tmp_path, FileIntegrityConfig(paths=[str(target)]))
    assert values(c, "tocsin_file_read_errors_total") == {str(target): 1.0}
    assert values(c, "tocsin_file_missing") == {str(target): 0.0}
    assert values(c, "tocsin_file_checksum_changed") == {}


def test_special_and_oversized_files_are_skipped(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    zero = tmp_path / "zero"
    zero.symlink_to("/dev/zero")
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2048)
    ok = tmp_path / "ok"
    ok.write_text("fine\n")
    paths = [str(p) for p in (fifo, zero, tmp_path, big, ok)]
    c = make(tmp_path, FileIntegrityConfig(paths=paths, max_file_bytes=1024))
    skipped = matching(samples(c), "tocsin_file_skipped")
    assert {dict(k)["path"]: dict(k)["reason"] for k in skipped} == {
        str(fifo): "fifo",
        str(zero): "character device",
        str(tmp_path): "directory",
        str(big): "too large",
    }
    assert values(c, "tocsin_file_checksum_changed") == {str(ok): 0.0}
    assert set(values(c, "tocsin_file_read_errors_total").values()) == {0.0}


def test_rootfs_and_damaged_state(tmp_path: Path) -> None:
    root = tmp_path / "host"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root\n")
    c = make(tmp_path, FileIntegrityConfig(paths=["/etc/passwd"]), rootfs=root)
    assert values(c, "tocsin_file_missing") == {"/etc/passwd": 0.0}
    (tmp_path / "state" / fileintegrity.STATE_FILE).write_text("{not json")
    broken = make(tmp_path, FileIntegrityConfig(paths=["/etc/passwd"]), rootfs=root)
    with pytest.raises(RuntimeError, match="file-integrity state"):
        list(broken.collect())


def test_config_problems() -> None:
    loader = Loader("x.yml")
    loader.load(
        FileIntegrityConfig,
        {"paths": ["etc/passwd", "/etc/a"], "expected_sha256": {"/etc/b": "zz"}},
        "collectors.fileintegrity",
    )
    keys = {p.key for p in loader.problems}
    assert keys == {
        "collectors.fileintegrity.paths[0]",
        "collectors.fileintegrity.expected_sha256./etc/b",
    }


def test_unwritable_state_dir_keeps_checking_and_is_reported(tmp_path: Path) -> None:
    from structlog.testing import capture_logs

    watched = tmp_path / "sshd_config"
    watched.write_text("PermitRootLogin no\n")
    (tmp_path / "state").write_text("a file where the state directory should be")
    c = make(tmp_path, FileIntegrityConfig(paths=[str(watched)]))
    reg = registry(c)
    with capture_logs() as logs:
        for _ in range(3):
            found = samples(reg)
        watched.write_text("PermitRootLogin yes\n")
        found = samples(reg)
    # Drift is still detected against the baseline held in memory.
    assert found[("tocsin_file_checksum_changed", (("path", str(watched)),))] == 1.0
    assert found[("tocsin_file_state_write_errors_total", ())] == 4.0
    assert [e["event"] for e in logs if e["log_level"] == "error"] == [
        "file_integrity_state_write_failed"
    ]
    (tmp_path / "state").unlink()
    with capture_logs() as logs:
        exposition(reg)
        exposition(reg)
    assert [e["event"] for e in logs] == ["file_integrity_state_write_recovered"]
    saved = json.loads((tmp_path / "state" / fileintegrity.STATE_FILE).read_text())
    assert saved["baselines"][str(watched)] == hashlib.sha256(b"PermitRootLogin no\n").hexdigest()
