"""The SSE event hub: ids, resuming from the replay window, and resets (an unknown or
too old id, a subscriber that fell behind), each missed event counted as a metric."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from receiver.http.eventhub import EventHub, Subscription
from receiver.metrics import REGISTRY


def _dropped() -> float:
    return REGISTRY.get_sample_value("tocsin_receiver_events_dropped_total") or 0.0


def _drain(sub: Subscription) -> list[int]:
    out = []
    while not sub.queue.empty():
        out.append(sub.queue.get_nowait().data["n"])
    return out


async def test_events_get_increasing_ids_of_this_hub() -> None:
    hub = EventHub()
    sub = hub.subscribe()
    hub.publish("incident", {"n": 1})
    hub.publish("delivery", {"n": 2})
    first, second = sub.queue.get_nowait(), sub.queue.get_nowait()
    assert first.id == f"{hub.epoch}-1" and second.id == f"{hub.epoch}-2" == hub.last_id
    assert (first.kind, second.kind) == ("incident", "delivery")
    assert first.data["at"].endswith("Z")
    assert EventHub().epoch != hub.epoch


async def test_resume_gets_exactly_the_events_after_the_id() -> None:
    hub = EventHub(replay=10)
    for n in range(1, 8):
        hub.publish("incident", {"n": n})
    sub = hub.subscribe(f"{hub.epoch}-4")
    assert sub.reset is None
    assert [e.data["n"] for e in sub.backlog] == [5, 6, 7]
    hub.publish("incident", {"n": 8})
    assert _drain(sub) == [8]
    assert hub.subscribe(hub.last_id).backlog == []


async def test_resume_at_the_edge_of_the_window_and_past_it() -> None:
    hub = EventHub(replay=3)
    for n in range(1, 7):
        hub.publish("incident", {"n": n})
    # Events 4..6 are kept: an id of 3 needs nothing more, an id of 2 misses event 3.
    assert [e.data["n"] for e in hub.subscribe(f"{hub.epoch}-3").backlog] == [4, 5, 6]
    assert hub.subscribe(f"{hub.epoch}-2").reset == "too_old"


async def test_ids_from_elsewhere_are_reset() -> None:
    hub = EventHub()
    hub.publish("incident", {"n": 1})
    assert hub.subscribe("0000-1").reset == "unknown_epoch"
    assert hub.subscribe(f"{hub.epoch}-2").reset == "unknown_id"
    reset_sub = hub.subscribe("0000-1")
    event = hub.take_reset(reset_sub, "0000-1")
    assert event.kind == "reset" and event.id == hub.last_id
    assert event.data["reason"] == "unknown_epoch" and event.data["window"] == hub.window
    assert reset_sub.reset is None


async def test_a_subscriber_that_falls_behind_is_reset_and_counted() -> None:
    hub = EventHub(queue_size=3)
    slow = hub.subscribe()
    before = _dropped()
    for n in range(1, 4):
        hub.publish("incident", {"n": n})
    assert _dropped() == before and slow.reset is None
    hub.publish("incident", {"n": 4})
    assert slow.reset == "overrun" and _dropped() == before + 1
    assert _drain(slow) == [1, 2, 3]
    # Until its reset is sent, nothing more is queued: the refetch covers it.
    hub.publish("incident", {"n": 5})
    assert _drain(slow) == [] and _dropped() == before + 2
    assert hub.take_reset(slow, f"{hub.epoch}-3").id == f"{hub.epoch}-5"
    hub.publish("incident", {"n": 6})
    assert _drain(slow) == [6]
    hub.unsubscribe(slow)
    hub.publish("incident", {"n": 7})
    assert _drain(slow) == [] and _dropped() == before + 2


@settings(max_examples=200, deadline=None)
@given(
    published=st.integers(0, 40),
    window=st.integers(1, 16),
    last=st.integers(0, 45),
)
def test_resuming_from_any_id_is_exact_or_a_reset(published: int, window: int, last: int) -> None:
    hub = EventHub(replay=window)
    for n in range(1, published + 1):
        hub.publish("incident", {"n": n})
    sub = hub.subscribe(f"{hub.epoch}-{last}")
    if last > published:
        assert sub.reset == "unknown_id"
    elif last < published - window:
        assert sub.reset == "too_old"
    else:
        assert sub.reset is None
        assert [e.data["n"] for e in sub.backlog] == list(range(last + 1, published + 1))
