"""In-process fan-out of incident changes to Server-Sent Events subscribers."""

from __future__ import annotations

import asyncio
from typing import Any

from receiver.metrics import EVENTS_DROPPED

_QUEUE_SIZE = 1000


class EventHub:
    """Subscribers get their own bounded queue; a slow one loses events, never blocks us."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[tuple[str, dict[str, Any]]]] = set()

    def subscribe(self) -> asyncio.Queue[tuple[str, dict[str, Any]]]:
        """A new subscriber's queue of `(kind, data)` events; `unsubscribe` it when done."""
        q: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(_QUEUE_SIZE)
        self._subscribers.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[tuple[str, dict[str, Any]]]) -> None:
        """Stop delivering to `q` (a queue no longer subscribed is ignored)."""
        self._subscribers.discard(q)

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Called on the event loop after a commit."""
        for q in self._subscribers:
            try:
                q.put_nowait((kind, data))
            except asyncio.QueueFull:
                EVENTS_DROPPED.inc()
