"""`tocsin-receiver migrate [--check]` on both backends, and `backup` on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from receiver.store.migrations import latest
from tests.integration.receiver_harness import (
    BACKEND,
    ReceiverProcess,
    with_backend,
    write_config,
)
from tests.postgres import PASSWORD
from tests.procs import REPO, run_module

pytestmark = pytest.mark.integration
# What `serve` applies on start: every version in receiver/store/schema.py.
ALL_VERSIONS = ", ".join(str(v) for v in range(1, latest() + 1))


def _migrate(tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    config = write_config(tmp_path / "receiver.yml", with_backend({}) or {})
    done = run_module(
        "receiver",
        "migrate",
        "--config.file",
        str(config),
        "--storage.path",
        str(tmp_path / "data"),
        *extra,
        cwd=REPO,
    )
    return done.returncode, done.stdout, done.stderr


def test_check_lists_pending_versions_then_migrate_applies_them(
    tmp_path: Path, storage_backend: str
) -> None:
    code, out, err = _migrate(tmp_path, "--check")
    assert code == 1 and f"pending migrations: {ALL_VERSIONS}" in out, (out, err)
    code, out, err = _migrate(tmp_path)
    assert code == 0 and f"applied migrations: {ALL_VERSIONS}" in out, (out, err)
    code, out, err = _migrate(tmp_path, "--check")
    assert code == 0 and "no migration pending" in out, (out, err)
    assert PASSWORD not in out + err
    if BACKEND.dsn is not None:
        with psycopg.connect(BACKEND.dsn) as conn:
            rows = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
        assert [r[0] for r in rows] == list(range(1, latest() + 1))


async def test_a_started_receiver_leaves_nothing_pending(
    tmp_path: Path, storage_backend: str
) -> None:
    receiver = await ReceiverProcess(tmp_path, with_backend({}) or {}).start()
    try:
        code, out, err = _migrate(tmp_path, "--check")
        assert code == 0 and "no migration pending" in out, (out, err)
    finally:
        receiver.stop()
