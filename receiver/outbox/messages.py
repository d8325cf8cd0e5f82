"""One message per incident and channel: the reference a channel's first post returned
(Slack's channel and ts, Discord's message id), read before each later delivery so the
channel edits that message instead of posting a new one.

The reference is stored in the transaction that records the delivery, so a restart
between the post and the record at worst posts once more (delivery is at-least-once);
it never loses a reference that was recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from receiver.store.base import Tx


class MessageLocks:
    """One delivery at a time per (incident, channel), in the order they asked: the second
    notification waits for the first post's reference instead of posting a message too.
    A lock lives only while someone holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[tuple[int, str], tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @asynccontextmanager
    async def hold(self, incident_id: int, channel: str) -> AsyncIterator[None]:
        """Wait for, then hold, the incident's message on `channel`."""
        key = (incident_id, channel)
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


def message_ref(tx: Tx, incident_id: int, channel: str) -> str | None:
    """The stored reference of the incident's message on `channel`, or None."""
    row = tx.one(
        "SELECT ref FROM channel_messages WHERE incident_id = ? AND channel = ?",
        (incident_id, channel),
    )
    return None if row is None else str(row["ref"])


def keep_message_ref(tx: Tx, incident_id: int, channel: str, ref: str, now: float) -> None:
    """Store (or replace, when the old message was gone and a new one posted) the
    reference of the incident's message on `channel`."""
    tx.execute(
        "INSERT INTO channel_messages (incident_id, channel, ref, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (incident_id, channel)"
        " DO UPDATE SET ref = excluded.ref, updated_at = excluded.updated_at",
        (incident_id, channel, ref, now, now),
    )
