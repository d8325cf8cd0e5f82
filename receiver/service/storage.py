"""Open the configured store, and its schema migrations for `tocsin-receiver migrate`:
SQLite under the storage path, or PostgreSQL at the DSN."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import psycopg

from receiver.config import StorageConfig
from receiver.store import connection, pgschema
from receiver.store.backup import db_path
from receiver.store.base import Store, StoreError
from receiver.store.dsn import redactor
from receiver.store.lock import DatabaseLock
from receiver.store.migrations import pending
from receiver.store.postgres import PostgresStore
from receiver.store.sqlite import SqliteStore


SWITCH_INTERVAL = 0.0005


def _dsn(cfg: StorageConfig) -> str:
    assert cfg.dsn is not None  # validated: backend postgres needs a DSN
    return cfg.dsn.reveal()


def postgres_dsn(cfg: StorageConfig) -> str | None:
    """The DSN when the backend is PostgreSQL (for the LISTEN/NOTIFY connections)."""
    return _dsn(cfg) if cfg.backend == "postgres" else None


async def open_store(cfg: StorageConfig, storage: Path) -> Store:
    """The store `cfg` names, migrated to the current schema (under its lock)."""
    if cfg.backend == "postgres":
        # Every statement is a network round trip on a pool thread, which then waits for
        # the GIL; at the default 5 ms switch interval a thread with an answer from the
        # server waits behind the loop's request parsing for up to that long, while its
        # transaction holds locks. 0.5 ms: webhooks processed per second with 4 clients
        # went from 160 to 199 in side-by-side runs of a 4-connection wrk load.
        sys.setswitchinterval(SWITCH_INTERVAL)
        return await PostgresStore.open(_dsn(cfg), cfg.pool_size, float(cfg.connect_timeout))
    return SqliteStore(db_path(storage), cfg.synchronous)


def pending_migrations(cfg: StorageConfig, storage: Path) -> list[int]:
    """The schema versions the configured database still needs (reads only);
    StoreError when it cannot be read."""
    if cfg.backend == "postgres":
        dsn = _dsn(cfg)
        try:
            with pgschema.connect(dsn, float(cfg.connect_timeout)) as conn:
                return pgschema.check(conn)
        except psycopg.Error as exc:
            raise StoreError(redactor(dsn)(f"cannot read the database: {exc}")) from exc
    try:
        return pending(connection.stored_version(db_path(storage)))
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read {db_path(storage)}: {exc}") from exc


def apply_migrations(cfg: StorageConfig, storage: Path) -> list[int]:
    """Apply the pending versions under the backend's lock; returns those applied.
    StoreError (StoreLocked on SQLite while a receiver runs) when it cannot."""
    if cfg.backend == "postgres":
        dsn = _dsn(cfg)
        try:
            with pgschema.connect(dsn, float(cfg.connect_timeout)) as conn:
                return pgschema.migrate(conn)
        except psycopg.Error as exc:
            raise StoreError(redactor(dsn)(f"cannot migrate the database: {exc}")) from exc
    path = db_path(storage)
    try:
        with DatabaseLock(path):
            before = connection.stored_version(path)
            db = connection.connect(path)
            try:
                after = connection.migrate(db)
            finally:
                db.close()
    except StoreError:
        raise
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"cannot migrate {path}: {exc}") from exc
    return list(range(before + 1, after + 1))
