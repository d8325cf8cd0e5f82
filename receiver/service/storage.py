"""Open the configured store: SQLite under the storage path, or PostgreSQL at the DSN."""

from __future__ import annotations

from pathlib import Path

from receiver.config import StorageConfig
from receiver.store.backup import db_path
from receiver.store.base import Store
from receiver.store.postgres import PostgresStore
from receiver.store.sqlite import SqliteStore


async def open_store(cfg: StorageConfig, storage: Path) -> Store:
    """The store `cfg` names, migrated to the current schema (under its lock)."""
    if cfg.backend == "postgres":
        assert cfg.dsn is not None  # validated: postgres needs a DSN
        return await PostgresStore.open(cfg.dsn.reveal(), cfg.pool_size, float(cfg.connect_timeout))
    return SqliteStore(db_path(storage), cfg.synchronous)
