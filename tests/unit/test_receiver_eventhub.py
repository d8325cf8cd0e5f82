"""The SSE event hub: a subscriber whose queue is full loses events, counted as a metric."""

from __future__ import annotations

from receiver.http.eventhub import EventHub
from receiver.metrics import REGISTRY


def _dropped() -> float:
    return REGISTRY.get_sample_value("tocsin_receiver_events_dropped_total") or 0.0


async def test_full_subscriber_queue_counts_dropped_events() -> None:
    hub = EventHub()
    slow = hub.subscribe()
    before = _dropped()
    for i in range(slow.maxsize):
        hub.publish("incident", {"id": i})
    assert _dropped() == before
    hub.publish("incident", {"id": "one too many"})
    hub.publish("incident", {"id": "and another"})
    assert _dropped() == before + 2
    assert slow.qsize() == slow.maxsize
    hub.unsubscribe(slow)
    hub.publish("incident", {"id": "nobody listens"})
    assert _dropped() == before + 2
