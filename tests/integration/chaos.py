"""Parts of the receiver chaos test: the alert burst posted to an Alertmanager pair, the
monkey that SIGKILLs and restarts replicas (and once restarts PostgreSQL), and the checks
of what the webhook sink received."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.receiver_harness import Alertmanager, ReceiverProcess, Sink
from tests.postgres import Cluster

# A kill recorded at time t can still stop a send the sink logged shortly before t: the
# request was written before the signal, the sink's handler ran after it.
SIGNAL_SLACK = 1.0
# After PostgreSQL is back, a receiver's first statements may still fail on connections
# the restart closed; an attempt not recorded then keeps its lease until it expires.
OUTAGE_TAIL = 15.0
OUTAGE = 8.0


def _ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Burst:
    """`groups` x `per_group` alerts, posted in four waves: the first half of each group
    fires, the second half joins (an update of the open incident), the first half
    resolves (another update), then the second half (the incident resolves)."""

    groups: int
    per_group: int
    starts: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(minutes=1))

    def identities(self) -> list[tuple[str, str]]:
        """(group, instance) of every alert."""
        return [
            (f"g{g:02d}", f"i{i:03d}") for g in range(self.groups) for i in range(self.per_group)
        ]

    def _alert(self, group: str, instance: str, ends: datetime | None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "labels": {"alertname": "ChaosAlert", "group": group, "instance": instance},
            "annotations": {"summary": f"{group}/{instance} is broken"},
            "startsAt": _ts(self.starts),
            "generatorURL": "http://prometheus.example/graph",
        }
        if ends is not None:
            doc["endsAt"] = _ts(ends)
        return doc

    def wave(self, number: int) -> list[dict[str, Any]]:
        """The alerts of wave 0-3 (see the class docstring)."""
        half = self.per_group // 2
        first = number in (0, 2)
        ends = datetime.now(UTC) if number >= 2 else None
        return [
            self._alert(group, instance, ends)
            for group, instance in self.identities()
            if (int(instance[1:]) < half) == first
        ]


async def post_burst(
    ams: list[Alertmanager], burst: Burst, pause: float, midway: asyncio.Event
) -> None:
    """Every wave to every Alertmanager (they gossip notification logs, not alerts), in
    chunks, `pause` seconds between waves; `midway` is set once the first resolutions are
    posted, while Alertmanager is about to flush them."""
    for number in range(4):
        alerts = burst.wave(number)
        for start in range(0, len(alerts), 250):
            chunk = alerts[start : start + 250]
            await asyncio.gather(*(am.post_alerts(chunk) for am in ams))
        if number == 2:
            midway.set()
        await asyncio.sleep(pause)


@dataclass
class Monkey:
    """SIGKILLs a random replica every 1-3 s and restarts it on the same port (so its
    Alertmanager's retries reach it again); with `pg` set, once restarts PostgreSQL
    instead once `midway` is set (no replica is killed or started while it is down)."""

    replicas: list[ReceiverProcess]
    midway: asyncio.Event
    pg: Cluster | None = None
    seed: int = 10
    kills: list[float] = field(default_factory=list)
    outage: tuple[float, float] | None = None

    async def run(self, stop: asyncio.Event) -> None:
        rng = random.Random(self.seed)
        while not stop.is_set():
            await asyncio.sleep(rng.uniform(1.0, 3.0))
            if self.pg is not None and self.outage is None and self.midway.is_set():
                down = time.time()
                await asyncio.to_thread(self.pg.stop_server)
                # Longer than a receiver waits for a connection (5 s), so webhooks meet
                # 503s and Alertmanager has to retry them.
                await asyncio.sleep(OUTAGE)
                await asyncio.to_thread(self.pg.start)
                self.outage = (down, time.time())
                continue
            victim = rng.choice(self.replicas)
            self.kills.append(time.time())
            await asyncio.to_thread(victim.kill)
            await victim.start()

    def interruptions(self, after: float, before: float) -> int:
        """Events that could have stopped a send logged at `after` from being recorded,
        before the send logged at `before`."""
        n = sum(1 for k in self.kills if after - SIGNAL_SLACK < k < before)
        if self.outage is not None:
            down, up = self.outage
            if after - SIGNAL_SLACK < up + OUTAGE_TAIL and down < before:
                n += 1
        return n


def notified(sink: Sink) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(group, instance) of every alert some delivered notification showed firing, and of
    every one it showed resolved."""
    firing: set[tuple[str, str]] = set()
    resolved: set[tuple[str, str]] = set()
    for got in sink.received:
        for alert in got.body["incident"]["alerts"]:
            labels = alert["labels"]
            ident = (labels.get("group", ""), labels.get("instance", ""))
            (firing if alert["status"] == "firing" else resolved).add(ident)
    return firing, resolved


def unexplained_resends(sink: Sink, monkey: Monkey) -> list[tuple[str, int]]:
    """Keys sent again without a lost lease to explain it.

    A row is sent only by the receiver holding its lease; that receiver records the
    attempt, which settles the row. A key reaches the sink again only when a send arrived
    and its attempt was never recorded: its receiver was SIGKILLed in between, or
    PostgreSQL went away, and the lease expired. So between any two arrivals of one key,
    at least one kill or the outage must fall (each such event can interrupt one send of a
    key, since one receiver holds its lease at a time): a key sent n times needs n - 1
    interruptions in disjoint intervals. Returns (key, sends) for every key that breaks it.
    """
    times: dict[str, list[float]] = {}
    for key, at in zip(sink.arrivals, sink.attempts, strict=True):
        times.setdefault(key, []).append(at)
    bad = []
    for key, ats in times.items():
        ats.sort()
        if any(monkey.interruptions(a, b) == 0 for a, b in itertools.pairwise(ats)):
            bad.append((key, len(ats)))
    return bad


def sends_per_key(sink: Sink) -> Counter[str]:
    """How many times each idempotency key reached the sink."""
    return Counter(sink.arrivals)
