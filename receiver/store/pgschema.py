"""Schema migrations on PostgreSQL, applied under an advisory lock.

Several replicas may start at once: each takes `pg_advisory_lock` (waiting for the
others) before it reads the schema version, so exactly one applies each pending version,
in one transaction with its `schema_version` row; the others then find nothing to do.
"""

from __future__ import annotations

from typing import Any

import psycopg

from receiver.store.dialect import ddl
from receiver.store.migrations import pending
from receiver.store.schema import MIGRATIONS

# The advisory lock key migrations take (an arbitrary constant, "tocsin" in ASCII).
MIGRATION_LOCK = 0x746F6373696E
# PostgreSQL's extra objects, applied with the version of the same number. Webhooks are
# inserted straight into `webhooks` as `received` (PostgreSQL locks rows, not the
# database, so an answer's INSERT waits for no processing job); SQLite's separate
# intake file has no counterpart, so the pipeline's `intake.intake` is an empty view.
_EXTRA: dict[int, list[str]] = {
    1: [
        "CREATE SCHEMA intake",
        "CREATE VIEW intake.intake AS SELECT id, received_at, correlation_id, body"
        " FROM webhooks WHERE false",
    ],
}


def current_version(conn: psycopg.Connection[Any]) -> int:
    """The database's schema version (0 when empty)."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    conn.commit()
    return int(row[0]) if row and row[0] is not None else 0


def check(conn: psycopg.Connection[Any]) -> list[int]:
    """The versions `migrate` would apply (reads only; no lock)."""
    row = conn.execute("SELECT to_regclass('schema_version')").fetchone()
    conn.commit()
    if row is None or row[0] is None:
        return pending(0)
    return pending(current_version(conn))


def migrate(conn: psycopg.Connection[Any]) -> list[int]:
    """Apply every pending version under the migration lock; returns those applied."""
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    conn.commit()
    applied: list[int] = []
    try:
        for version in pending(current_version(conn)):
            with conn.transaction():
                for sql in MIGRATIONS[version - 1] + _EXTRA.get(version, []):
                    conn.execute(ddl(sql))
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
            applied.append(version)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        conn.commit()
    return applied


def connect(dsn: str, timeout: float) -> psycopg.Connection[Any]:
    """A plain connection for `migrate` and `migrate --check` (no pool)."""
    return psycopg.connect(dsn, connect_timeout=max(1, int(timeout)))
