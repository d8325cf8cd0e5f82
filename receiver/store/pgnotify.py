"""LISTEN/NOTIFY between receivers on one PostgreSQL database.

Two channels: `tocsin_outbox` says "the outbox or a due time changed, look at the
table", so another replica's worker and scheduler wake at once instead of at their next
poll; `tocsin_events` carries one SSE event (kind and JSON data), so a client connected
to any replica sees what happened on every one.

Each replica keeps two dedicated connections of its own, outside the store's pool: one
that only LISTENs, one that only sends. Notifications are sent right after the commit
of the work they announce (from the after-commit hooks), so they never announce work
that rolled back; one lost between a commit and its notification costs only latency,
since the polling stays as the fallback. Both connections reconnect by themselves
after a database restart; the listener then wakes its replica once, for whatever was
announced while it was away. A replica skips the notifications it sent itself.

psycopg's async connections do their I/O without blocking the event loop.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import structlog

from receiver.store.dsn import redactor
from servicekit.tasks import cancel_all

log = structlog.get_logger("receiver.store")
OUTBOX = "tocsin_outbox"
EVENTS = "tocsin_events"
# PostgreSQL refuses a NOTIFY payload of 8000 bytes or more.
MAX_PAYLOAD = 7900
# A string field longer than this is cut when an event would not fit in one payload.
_CUT = 512
# How long the listener waits for a notification before checking its connection.
_HEALTH_EVERY = 5.0
_RETRY_AFTER = 1.0
# Notifications waiting to be sent; beyond this they are dropped (and counted): the
# other replicas' polling still finds the work, and an SSE client can refetch.
_QUEUE = 10_000


@dataclass(frozen=True)
class Hooks:
    """What a notifier calls, on the event loop: `outbox` when another replica changed
    the outbox, `event` with another replica's SSE event, `listening` each time the
    listener has (re)connected (for what it may have missed), `dropped` with how many
    of this replica's notifications were not sent."""

    outbox: Callable[[], None]
    event: Callable[[str, dict[str, Any]], None]
    listening: Callable[[], None]
    dropped: Callable[[int], None]


def encode_event(origin: str, kind: str, data: dict[str, Any]) -> str:
    """One event as a NOTIFY payload under PostgreSQL's limit: long strings are cut
    (and `truncated` set) when the whole event would not fit, and an event that still
    does not fit keeps only its numbers, nulls and short strings."""
    text = _dumps(origin, kind, data)
    if len(text.encode()) < MAX_PAYLOAD:
        return text
    cut = {
        k: v[:_CUT] + "…" if isinstance(v, str) and len(v) > _CUT else v for k, v in data.items()
    }
    text = _dumps(origin, kind, {**cut, "truncated": True})
    if len(text.encode()) < MAX_PAYLOAD:
        return text
    short = {
        k: v
        for k, v in data.items()
        if v is None or isinstance(v, int | float | bool) or (isinstance(v, str) and len(v) <= 64)
    }
    return _dumps(origin, kind, {**short, "truncated": True})


def _dumps(origin: str, kind: str, data: dict[str, Any]) -> str:
    return json.dumps({"o": origin, "k": kind, "d": data}, separators=(",", ":"))


class PgNotifier:
    """Sends this replica's notifications and hands the other replicas' to `hooks`."""

    def __init__(self, dsn: str, hooks: Hooks, connect_timeout: float = 5.0) -> None:
        self.origin = secrets.token_hex(8)
        self._dsn = dsn
        self._redact = redactor(dsn)
        self._hooks = hooks
        self._timeout = max(1, int(connect_timeout))
        self._queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue(_QUEUE)
        self._outbox_queued = False
        self._tasks: list[asyncio.Task[None]] = []
        self.listening = False

    def start(self) -> None:
        """Start listening and sending (on the running event loop)."""
        self._tasks = [
            asyncio.create_task(self._listen(), name="pg-listen"),
            asyncio.create_task(self._send(), name="pg-notify"),
        ]

    async def stop(self) -> None:
        """Stop both connections; notifications not yet sent are dropped."""
        await cancel_all(self._tasks)
        self._tasks = []

    def outbox_changed(self) -> None:
        """Tell the other replicas to look at the outbox and due times (after a commit).
        Coalesced: one notification stands for every change queued before it is sent."""
        if not self._outbox_queued:
            self._outbox_queued = self._put(OUTBOX, self.origin)

    def event(self, kind: str, data: dict[str, Any]) -> None:
        """Hand one committed SSE event to the other replicas."""
        self._put(EVENTS, encode_event(self.origin, kind, data))

    def _put(self, channel: str, payload: str) -> bool:
        try:
            self._queue.put_nowait((channel, payload))
        except asyncio.QueueFull:
            self._hooks.dropped(1)
            return False
        return True

    async def _listen(self) -> None:
        while True:
            try:
                async with await self._connect() as conn:
                    await conn.execute(f"LISTEN {OUTBOX}")
                    await conn.execute(f"LISTEN {EVENTS}")
                    self.listening = True
                    log.info("pg_listening", channels=[OUTBOX, EVENTS])
                    # Whatever was announced while this replica was not listening.
                    self._hooks.listening()
                    while True:
                        async for note in conn.notifies(timeout=_HEALTH_EVERY):
                            self._dispatch(note.channel, note.payload)
                        await conn.execute("SELECT 1")
            except psycopg.Error as exc:
                if self.listening:
                    log.warning("pg_listen_lost", error=self._redact(str(exc)))
                self.listening = False
                await asyncio.sleep(_RETRY_AFTER)

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(
            self._dsn,
            autocommit=True,
            connect_timeout=self._timeout,
            # A server that vanished without closing the socket is noticed by TCP.
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
        )

    def _dispatch(self, channel: str, payload: str) -> None:
        if channel == OUTBOX:
            if payload != self.origin:
                self._hooks.outbox()
            return
        try:
            doc = json.loads(payload)
            origin, kind, data = doc["o"], doc["k"], doc["d"]
        except (ValueError, KeyError, TypeError):
            log.warning("pg_notification_unreadable", channel=channel)
            return
        if origin != self.origin and isinstance(kind, str) and isinstance(data, dict):
            self._hooks.event(kind, data)

    async def _send(self) -> None:
        # A batch whose connection was lost (a server restart is only noticed when the
        # next notification is sent) is sent again on the new connection.
        batch: list[tuple[str, str]] = []
        while True:
            try:
                async with await self._connect() as conn:
                    while True:
                        batch = batch or await self._take()
                        try:
                            async with conn.cursor() as cur:
                                await cur.executemany("SELECT pg_notify(%s, %s)", batch)
                        except (psycopg.OperationalError, psycopg.InterfaceError):
                            raise
                        except psycopg.Error as exc:
                            log.error("pg_notify_failed", error=self._redact(str(exc)))
                            self._hooks.dropped(len(batch))
                        batch = []
            except psycopg.Error as exc:
                log.warning("pg_connection_lost", role="notify", error=self._redact(str(exc)))
                await asyncio.sleep(_RETRY_AFTER)

    async def _take(self) -> list[tuple[str, str]]:
        batch = [await self._queue.get()]
        while not self._queue.empty():
            batch.append(self._queue.get_nowait())
        self._outbox_queued = False
        return batch
