"""Which schema versions exist and which a database still needs (both backends).

Both backends apply the one `MIGRATIONS` list (`receiver.store.schema`) in order,
record each version in `schema_version` in the transaction that applied it, and do so
under a lock so that two processes starting at once never apply a version twice: the
database file's flock on SQLite, an advisory lock on PostgreSQL.
"""

from __future__ import annotations

from receiver.store.schema import MIGRATIONS


def latest() -> int:
    """The newest schema version this build knows."""
    return len(MIGRATIONS)


def pending(current: int) -> list[int]:
    """The versions a database at `current` still needs, oldest first."""
    return list(range(current + 1, latest() + 1))
