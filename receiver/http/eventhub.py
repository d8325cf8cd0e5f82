"""In-process fan-out of receiver events to Server-Sent Events subscribers, with ids and
a bounded replay window so a reconnecting client resumes without a gap.

An event id is `<epoch>-<sequence>`: the epoch is drawn anew by every hub (each start of
the receiver, each replica), so an id from an earlier run or another replica is
recognised as such instead of being taken for a position in this hub's sequence.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from receiver.metrics import EVENTS_DROPPED
from receiver.model.snapshot import iso

# How many recent events a reconnect can resume from (documented in the README and in
# the OpenAPI description of /api/v1/events).
REPLAY_EVENTS = 1024
# How far one subscriber may fall behind before it is sent a reset instead.
QUEUE_SIZE = 1000
ID_RE = re.compile(r"([0-9a-f]{1,32})-([0-9]{1,18})")


@dataclass(frozen=True)
class Event:
    """One published event: its SSE id, kind (the SSE `event:` field) and JSON data."""

    id: str
    seq: int
    kind: str
    data: dict[str, Any]


@dataclass(eq=False)
class Subscription:
    """One subscriber: events missed before it subscribed (`backlog`), live ones in
    `queue`, and `reset` set to a reason whenever it must refetch instead of resuming."""

    queue: asyncio.Queue[Event]
    backlog: list[Event] = field(default_factory=list)
    reset: str | None = None


class EventHub:
    """Subscribers get their own bounded queue; a slow one is reset, never blocks us."""

    def __init__(self, replay: int = REPLAY_EVENTS, queue_size: int = QUEUE_SIZE) -> None:
        self.epoch = secrets.token_hex(4)
        self.window = replay
        self._queue_size = queue_size
        self._seq = 0
        self._recent: deque[Event] = deque(maxlen=replay)
        self._subscribers: set[Subscription] = set()

    @property
    def last_id(self) -> str:
        """The id of the newest event (`<epoch>-0` before the first)."""
        return f"{self.epoch}-{self._seq}"

    def subscribe(self, last_event_id: str | None = None) -> Subscription:
        """A new subscriber; with `last_event_id`, its backlog holds every event after
        that id, or its `reset` says why it cannot resume. `unsubscribe` it when done.

        Runs on the event loop without awaiting, as `publish` does, so no event falls
        between the backlog and the queue."""
        sub = Subscription(asyncio.Queue(self._queue_size))
        if last_event_id:
            sub.backlog, sub.reset = self._after(last_event_id)
        self._subscribers.add(sub)
        return sub

    def _after(self, last_event_id: str) -> tuple[list[Event], str | None]:
        m = ID_RE.fullmatch(last_event_id)
        if m is None or m.group(1) != self.epoch:
            return [], "unknown_epoch"
        seq = int(m.group(2))
        if seq > self._seq:
            return [], "unknown_id"
        oldest = self._recent[0].seq if self._recent else self._seq + 1
        if seq < oldest - 1:
            return [], "too_old"
        return [e for e in self._recent if e.seq > seq], None

    def unsubscribe(self, sub: Subscription) -> None:
        """Stop delivering to `sub` (one no longer subscribed is ignored)."""
        self._subscribers.discard(sub)

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Called on the event loop after a commit; `data` gets the publication time
        as `at` unless it has one."""
        self._seq += 1
        event = Event(f"{self.epoch}-{self._seq}", self._seq, kind, {"at": _now(), **data})
        self._recent.append(event)
        for sub in self._subscribers:
            if sub.reset is not None:
                # Already behind: everything until its reset is covered by the refetch.
                EVENTS_DROPPED.inc()
                continue
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                sub.reset = "overrun"
                EVENTS_DROPPED.inc()

    def take_reset(self, sub: Subscription, last_event_id: str | None) -> Event:
        """The `reset` event owed to `sub`, with the newest event's id (the point the
        client's refetch stands for), clearing the reset: live events follow it."""
        reason, sub.reset = sub.reset, None
        data = {
            "at": _now(),
            "reason": reason,
            "last_event_id": last_event_id,
            "window": self.window,
        }
        return Event(self.last_id, self._seq, "reset", data)


def _now() -> str:
    return str(iso(time.time()))
