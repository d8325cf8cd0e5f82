"""Durable storage behind a small interface: SQLite (WAL) is the embedded backend,
PostgreSQL (`receiver.store.postgres`) the one for several receivers."""

from receiver.store.base import Store, StoreError, Tx

__all__ = ["Store", "StoreError", "Tx"]
