"""Durable storage behind a small interface; SQLite (WAL) is the embedded backend."""

from receiver.store.base import Store, StoreError, Tx

__all__ = ["Store", "StoreError", "Tx"]
