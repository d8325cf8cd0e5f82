"""One delivery at a time per incident message, in arrival order, and no lock left behind."""

from __future__ import annotations

import asyncio

import pytest

from receiver.outbox.messages import MessageLocks


async def test_deliveries_to_one_message_take_turns_in_order_and_others_run_alongside() -> None:
    locks = MessageLocks()
    order: list[str] = []
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def deliver(name: str, incident: int, wait: asyncio.Event | None = None) -> None:
        async with locks.hold(incident, "slack"):
            order.append(f"{name}:in")
            if wait is not None:
                first_in.set()
                await wait.wait()
            order.append(f"{name}:out")

    first = asyncio.create_task(deliver("first", 1, release))
    await first_in.wait()
    later = [asyncio.create_task(deliver(n, 1)) for n in ("second", "third")]
    other = asyncio.create_task(deliver("other", 2))
    await other
    # Another incident's message is not held up; this one's waiters are.
    assert order == ["first:in", "other:in", "other:out"]
    release.set()
    await asyncio.gather(first, *later)
    assert order[3:] == ["first:out", "second:in", "second:out", "third:in", "third:out"]
    assert len(locks) == 0


async def test_a_failed_delivery_releases_its_turn() -> None:
    locks = MessageLocks()

    async def fail() -> None:
        async with locks.hold(1, "chat"):
            raise RuntimeError("provider down")

    with pytest.raises(RuntimeError):
        await fail()
    async with asyncio.timeout(5), locks.hold(1, "chat"):
        assert len(locks) == 1
    assert len(locks) == 0
