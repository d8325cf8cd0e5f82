"""Heartbeats in the in-transaction pipeline, against a real SQLite file: a heartbeat alert
never opens an incident, a passed deadline pages once (also across a reopened store),
the heartbeat's return resolves the page, and the config section is validated."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from receiver.commands.config_file import load_config
from receiver.config import Config
from receiver.model.actor import Actor
from receiver.model.payload import parse_payload
from receiver.pipeline import timers
from receiver.pipeline.actions import ack
from receiver.pipeline.context import Context
from receiver.pipeline.stages import process
from receiver.pipeline.work import Outcome
from receiver.store.sqlite import SqliteStore
from servicekit.problems import ConfigError
from tests.integration.receiver_harness import am_alert, am_payload

CONFIG = """
channels:
  - {name: pager, type: webhook, url: "http://127.0.0.1:9/pager"}
  - {name: team, type: webhook, url: "http://127.0.0.1:9/team"}
default_route: {channels: [team]}
heartbeats:
  - name: watchdog
    matchers: ['alertname="TocsinWatchdog"']
    interval: 5m
    channels: [pager]
"""


def _config(tmp_path: Path, text: str = CONFIG) -> Config:
    path = tmp_path / "receiver.yml"
    path.write_text(text)
    return load_config(path)


def _problems(tmp_path: Path, text: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as err:
        _config(tmp_path, text)
    return {p.key: p.message for p in err.value.problems}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(tmp_path / "receiver.db")
    yield s
    await s.close()


def _watchdog(**labels: str) -> dict[str, Any]:
    return am_alert("wd", alertname="TocsinWatchdog", severity="info", **labels)


async def _send(store: SqliteStore, ctx: Context, doc: dict[str, Any], now: float) -> Outcome:
    payload = parse_payload(doc)
    return await store.write(lambda tx: process(tx, ctx, payload, "cid", now))


async def _tick(store: SqliteStore, ctx: Context, now: float) -> int:
    if not await store.read(lambda tx: timers.anything_due(tx, ctx, now)):
        return 0
    return await store.write(lambda tx: timers.tick(tx, ctx, now))


async def _notifications(store: SqliteStore) -> list[tuple[str, str, str]]:
    rows = await store.read(
        lambda tx: tx.all(
            "SELECT n.channel, n.kind, i.receiver FROM notifications n"
            " JOIN incidents i ON i.id = n.incident_id ORDER BY n.id"
        )
    )
    return [(r["channel"], r["kind"], r["receiver"]) for r in rows]


async def test_a_heartbeat_is_consumed_and_its_absence_pages_once(
    tmp_path: Path, store: SqliteStore
) -> None:
    ctx = Context.from_config(_config(tmp_path))
    t0 = time.time()
    out = await _send(store, ctx, am_payload("wd", [_watchdog()]), t0)
    assert out.incident_id is None and not out.notifications
    # The same heartbeat again (Alertmanager's resend) is a beat too, not a duplicate.
    await _send(store, ctx, am_payload("wd", [_watchdog()]), t0 + 200)
    assert await _tick(store, ctx, t0 + 400) == 0
    assert await _notifications(store) == []

    # Mixed with another alert: only the other one opens an incident.
    mixed = await _send(store, ctx, am_payload("mix", [_watchdog(), am_alert("x")]), t0 + 250)
    assert mixed.created and mixed.new_events == 1
    assert await _notifications(store) == [("team", "firing", "tocsin")]

    # 5m after the last beat (t0 + 250) it is missed: one page, to the heartbeat's channel.
    assert await _tick(store, ctx, t0 + 549) == 0
    assert await _tick(store, ctx, t0 + 551) == 1
    assert await _tick(store, ctx, t0 + 900) == 0
    assert (await _notifications(store))[1:] == [("pager", "firing", "tocsin-heartbeats")]

    # It comes back: the page resolves, to the channel that was paged.
    await _send(store, ctx, am_payload("wd", [_watchdog()]), t0 + 1000)
    assert (await _notifications(store))[2:] == [("pager", "resolved", "tocsin-heartbeats")]
    # Missed again later: a second page, a new incident.
    assert await _tick(store, ctx, t0 + 1301) == 1
    rows = await store.read(
        lambda tx: tx.all(
            "SELECT state, common_labels FROM incidents WHERE receiver = 'tocsin-heartbeats'"
            " ORDER BY id"
        )
    )
    assert [r["state"] for r in rows] == ["resolved", "firing"]
    assert '"heartbeat": "watchdog"' in rows[0]["common_labels"]
    assert '"severity": "critical"' in rows[0]["common_labels"]


async def test_the_deadline_survives_a_reopened_store(tmp_path: Path) -> None:
    ctx = Context.from_config(_config(tmp_path))
    t0 = time.time()
    first = SqliteStore(tmp_path / "receiver.db")
    await _send(first, ctx, am_payload("wd", [_watchdog()]), t0)
    await first.close()
    # Down past the deadline: the first pass after start pages, later starts do not.
    for _ in range(3):
        again = SqliteStore(tmp_path / "receiver.db")
        await _tick(again, ctx, t0 + 600)
        pages = await _notifications(again)
        await again.close()
        assert pages == [("pager", "firing", "tocsin-heartbeats")]


async def test_a_never_seen_heartbeat_pages_one_interval_after_watching_began(
    tmp_path: Path, store: SqliteStore
) -> None:
    text = CONFIG.replace("    channels: [pager]\n", "    labels: {severity: warning}\n")
    ctx = Context.from_config(_config(tmp_path, text))
    t0 = time.time()
    assert await _tick(store, ctx, t0) == 0
    assert await _tick(store, ctx, t0 + 299) == 0
    # Neither channels nor escalation: the routing tree decides (here the default route).
    assert await _tick(store, ctx, t0 + 301) == 1
    assert await _notifications(store) == [("team", "firing", "tocsin-heartbeats")]


async def test_an_escalated_page_can_be_acknowledged_and_still_resolves(
    tmp_path: Path, store: SqliteStore
) -> None:
    text = CONFIG.replace(
        "default_route: {channels: [team]}\n",
        "default_route: {channels: [team]}\nescalation_policies:\n"
        "  - {name: oncall, steps: [{channels: [pager]}, {after: 10m, channels: [team]}]}\n",
    ).replace("channels: [pager]\n", "escalation: oncall\n")
    ctx = Context.from_config(_config(tmp_path, text))
    t0 = time.time()
    await _send(store, ctx, am_payload("wd", [_watchdog()]), t0)
    assert await _tick(store, ctx, t0 + 301) == 1
    assert await _notifications(store) == [("pager", "firing", "tocsin-heartbeats")]
    # Ten minutes on, the policy's second step fires, as for any incident.
    assert await _tick(store, ctx, t0 + 905) == 1
    assert (await _notifications(store))[1] == ("team", "escalation", "tocsin-heartbeats")
    (page,) = await store.read(lambda tx: tx.all("SELECT id FROM incidents"))
    await store.write(lambda tx: ack(tx, ctx, page["id"], Actor("ops", "operator"), "", t0 + 906))
    await _send(store, ctx, am_payload("wd", [_watchdog()]), t0 + 1000)
    # The ack is announced to both channels the page reached, then both hear it resolve.
    assert sorted((await _notifications(store))[2:]) == [
        ("pager", "acknowledged", "tocsin-heartbeats"),
        ("pager", "resolved", "tocsin-heartbeats"),
        ("team", "acknowledged", "tocsin-heartbeats"),
        ("team", "resolved", "tocsin-heartbeats"),
    ]


def test_the_heartbeats_section_is_validated(tmp_path: Path) -> None:
    found = _problems(
        tmp_path,
        """
channels:
  - {name: pager, type: webhook, url: "http://127.0.0.1:9/pager"}
escalation_policies:
  - {name: oncall, steps: [{channels: [pager]}]}
heartbeats:
  - {name: a, matchers: ['alertname="A"'], interval: 0s, channels: [pagr]}
  - {name: b, matchers: ['alertname="B"'], interval: soon, escalation: nobody}
  - {name: a, matchers: ['alertname="C"'], interval: 1m, channels: [pager], escalation: oncall}
  - {name: d, matchers: [], interval: 1m, labels: {heartbeat: x}}
""",
    )
    assert found == {
        "heartbeats[0].interval": "expected a duration greater than 0, got 0s",
        "heartbeats[0].channels[0]": "unknown channel 'pagr'",
        "heartbeats[1].interval": "expected a duration such as 10s, 5m or 1h, got 'soon'",
        "heartbeats[1].escalation": "unknown escalation policy 'nobody'",
        "heartbeats[2]": "set either channels or escalation, not both",
        "heartbeats[2].name": "duplicate heartbeat name 'a' (first in heartbeats[0])",
        "heartbeats[3].matchers": "expected at least one matcher",
        "heartbeats[3].labels.heartbeat": "set by the receiver; choose another label",
    }


def test_matchers_that_would_take_the_missed_alert_for_a_heartbeat(tmp_path: Path) -> None:
    found = _problems(
        tmp_path,
        """
heartbeats:
  - {name: a, matchers: ['alertname="TocsinWatchdog"'], interval: 1m}
  - {name: b, matchers: ['alertname=~"Tocsin.*"'], interval: 1m}
""",
    )
    assert list(found) == ["heartbeats[1].matchers"]
    assert "missed-heartbeat incident (TocsinHeartbeatMissed)" in found["heartbeats[1].matchers"]
