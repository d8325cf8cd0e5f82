"""`tocsin-receiver migrate` and `backup` with a PostgreSQL configuration: the advisory
lock between replicas, `dsn_file` and `${ENV}`, an unreachable server, the password kept
out of every message (see test_receiver_migrate.py for both backends)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from receiver.store.migrations import latest
from tests.integration.receiver_harness import write_config
from tests.postgres import PASSWORD, Cluster
from tests.procs import REPO, free_port, run_module

pytestmark = pytest.mark.integration
ALL_VERSIONS = ", ".join(str(v) for v in range(1, latest() + 1))


def test_replicas_starting_at_once_apply_each_version_once(
    tmp_path: Path, pg_cluster: Cluster
) -> None:
    """Two `migrate` runs at once on one empty database: the advisory lock lets one apply
    every version and the other find nothing to do."""
    dsn = pg_cluster.create_database()
    doc = {"storage": {"backend": "postgres", "dsn": dsn}}
    config = write_config(tmp_path / "receiver.yml", doc)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "receiver", "migrate", "--config.file", str(config)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    applied = sorted(o for o, _ in outs)
    assert applied == [f"postgres: applied migrations: {ALL_VERSIONS}\n", "postgres: up to date\n"]
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    assert [r[0] for r in rows] == list(range(1, latest() + 1))


def test_unreachable_database_fails_without_showing_the_password(tmp_path: Path) -> None:
    dsn = f"postgresql://tocsin:{PASSWORD}@127.0.0.1:{free_port()}/nowhere"
    config = write_config(
        tmp_path / "receiver.yml",
        {"storage": {"backend": "postgres", "dsn": dsn, "connect_timeout": "2s"}},
    )
    for extra in (["--check"], []):
        done = run_module("receiver", "migrate", "--config.file", str(config), *extra)
        assert done.returncode == 1, done
        assert "migrate: cannot" in done.stderr and "127.0.0.1" in done.stderr, done.stderr
        assert PASSWORD not in done.stdout + done.stderr
    served = run_module("receiver", "serve", "--config.file", str(config), timeout=60)
    assert served.returncode == 1 and "cannot serve" in served.stderr, served
    assert PASSWORD not in served.stdout + served.stderr


def test_dsn_file_and_env_expansion(tmp_path: Path, pg_cluster: Cluster) -> None:
    dsn = pg_cluster.create_database()
    secret = tmp_path / "dsn"
    secret.write_text(dsn + "\n")
    by_file = write_config(
        tmp_path / "file.yml", {"storage": {"backend": "postgres", "dsn_file": str(secret)}}
    )
    done = run_module("receiver", "migrate", "--config.file", str(by_file))
    assert done.returncode == 0 and "applied" in done.stdout, done
    by_env = write_config(
        tmp_path / "env.yml", {"storage": {"backend": "postgres", "dsn": "${TOCSIN_TEST_DSN}"}}
    )
    env = {"PATH": "/usr/bin:/bin", "TOCSIN_TEST_DSN": dsn, "PYTHONPATH": str(REPO)}
    done = run_module("receiver", "migrate", "--check", "--config.file", str(by_env), env=env)
    assert done.returncode == 0 and "no migration pending" in done.stdout, done


def test_config_problems_exit_3(tmp_path: Path) -> None:
    config = write_config(tmp_path / "receiver.yml", {"storage": {"backend": "postgres"}})
    done = run_module("receiver", "migrate", "--check", "--config.file", str(config))
    assert done.returncode == 3 and "storage.dsn" in done.stderr, done
    config = write_config(tmp_path / "receiver.yml", {"storage": {"backend": "mysql"}})
    done = run_module("receiver", "migrate", "--config.file", str(config))
    assert done.returncode == 3 and "storage.backend" in done.stderr, done


def test_backup_on_postgres_points_to_pg_dump(tmp_path: Path) -> None:
    dsn = f"postgresql://tocsin:{PASSWORD}@127.0.0.1:1/db"
    config = write_config(
        tmp_path / "receiver.yml", {"storage": {"backend": "postgres", "dsn": dsn}}
    )
    done = run_module(
        "receiver", "backup", "--config.file", str(config), "--to", str(tmp_path / "b.db")
    )
    assert done.returncode == 4, done
    assert "pg_dump" in done.stderr and "pg_restore" in done.stderr, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    assert not (tmp_path / "b.db").exists()


def test_restore_on_postgres_points_to_pg_restore(tmp_path: Path) -> None:
    dsn = f"postgresql://tocsin:{PASSWORD}@127.0.0.1:1/db"
    config = write_config(
        tmp_path / "receiver.yml", {"storage": {"backend": "postgres", "dsn": dsn}}
    )
    backup = tmp_path / "b.db"
    backup.write_bytes(b"not restored")
    storage = tmp_path / "data"
    done = run_module(
        "receiver",
        "restore",
        "--config.file",
        str(config),
        "--from",
        str(backup),
        "--storage.path",
        str(storage),
    )
    assert done.returncode == 4, done
    assert "pg_restore" in done.stderr, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    assert not storage.exists()
