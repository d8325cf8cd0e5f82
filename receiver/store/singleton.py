"""Work that one receiver at a time may do on a database several receivers share.

On PostgreSQL `pg_try_advisory_xact_lock` is taken inside the job's own transaction and
held until it ends, so the receiver that gets it does the work and commits before any
other can take it; the others skip this round (the next round sees what was committed).
SQLite has one receiver per file and its writer runs one job at a time: always granted.
`serialise` waits for the lock instead of skipping, for work that must not run side by
side but must not be skipped either.
"""

from __future__ import annotations

import zlib

from receiver.store.base import Tx

# Advisory lock keys: arbitrary constants, the work's name in ASCII.
RETENTION_LOCK = 0x7072756E65
TIMERS_LOCK = 0x74696D657273
STORM_LOCK = 0x73746F726D
_DIGEST_LOCK = 0x646967 << 32


def try_singleton(tx: Tx, key: int, shared: bool) -> bool:
    """Whether this transaction may do the work named by `key` now."""
    if not shared:
        return True
    got = tx.one("SELECT pg_try_advisory_xact_lock(?) AS ok", (key,))
    return bool(got and got["ok"])


def serialise(tx: Tx, key: int, shared: bool) -> None:
    """Wait until no other transaction holds `key`, then hold it to this one's end, so
    what every holder before it committed is seen by this transaction's next statement
    (several writers: lanes of one receiver, other receivers)."""
    if shared:
        tx.one("SELECT pg_advisory_xact_lock(?) AS held", (key,))


def digest_lock(channel: str) -> int:
    """The lock key of making `channel`'s digest (one per channel, so channels do not wait
    for each other)."""
    return _DIGEST_LOCK | zlib.crc32(channel.encode())
