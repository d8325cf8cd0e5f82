"""Work that one receiver at a time may do on a database several receivers share.

On PostgreSQL `pg_try_advisory_xact_lock` is taken inside the job's own transaction and
held until it ends, so the receiver that gets it does the work and commits before any
other can take it; the others skip this round (the next round sees what was committed).
SQLite has one receiver per file and its writer runs one job at a time: always granted.
"""

from __future__ import annotations

import zlib

from receiver.store.base import Tx

# Advisory lock keys: arbitrary constants, the work's name in ASCII.
RETENTION_LOCK = 0x7072756E65
TIMERS_LOCK = 0x74696D657273
_DIGEST_LOCK = 0x646967 << 32


def try_singleton(tx: Tx, key: int, shared: bool) -> bool:
    """Whether this transaction may do the work named by `key` now."""
    if not shared:
        return True
    got = tx.one("SELECT pg_try_advisory_xact_lock(?) AS ok", (key,))
    return bool(got and got["ok"])


def digest_lock(channel: str) -> int:
    """The lock key of making `channel`'s digest (one per channel, so channels do not wait
    for each other)."""
    return _DIGEST_LOCK | zlib.crc32(channel.encode())
