"""Alert identity by episode: the rules alone, then through the real pipeline and SQLite."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from receiver.commands.config_file import default_config
from receiver.model.payload import parse_payload
from receiver.pipeline.context import Context
from receiver.pipeline.episodes import Episode, is_new
from receiver.pipeline.stages import process
from receiver.pipeline.work import Outcome
from receiver.store.connection import migrate
from receiver.store.schema import MIGRATIONS
from receiver.store.sqlite import SqliteStore
from tests.integration.receiver_harness import am_alert, am_payload

T = "2024-05-01T10:00:00Z"
T_5S = "2024-05-01T10:00:05Z"
T_20M = "2024-05-01T10:20:00Z"
T_30M = "2024-05-01T10:30:00Z"
T0 = parse_payload(am_payload("g", [am_alert("a", starts=T)])).alerts[0].starts_ts


def _alert(status: str, starts: str, ends: str | None = None) -> Any:
    doc = am_alert("a", status=status, starts=starts)
    if ends is not None:
        doc["endsAt"] = ends
    return parse_payload(am_payload("g", [doc])).alerts[0]


FIRING = Episode("firing", T0, None)
RESOLVED = Episode("resolved", T0, T0 + 1200)


@pytest.mark.parametrize(
    ("episode", "status", "starts", "ends", "new"),
    [
        (None, "firing", T, None, True),
        (FIRING, "firing", T, None, False),
        (FIRING, "firing", T_5S, None, False),
        (FIRING, "resolved", T_5S, T_20M, True),
        # A resolution that ended before the episode began belongs to an older one.
        (Episode("firing", T0 + 1800, None), "resolved", T, T_20M, False),
        (RESOLVED, "firing", T_5S, None, False),
        (RESOLVED, "firing", T_20M, None, False),
        (RESOLVED, "firing", T_30M, None, True),
        (RESOLVED, "resolved", T_5S, T_30M, False),
    ],
)
def test_rules(episode: Episode | None, status: str, starts: str, ends: str, new: bool) -> None:
    assert is_new(episode, _alert(status, starts, ends), time.time()) is new


def test_a_resolution_without_end_counts_from_when_it_arrived() -> None:
    resolved = _alert("resolved", T, "0001-01-01T00:00:00Z")
    assert resolved.ends_ts is None
    assert is_new(Episode("firing", time.time() + 60, None), resolved, time.time()) is False
    assert is_new(FIRING, resolved, time.time()) is True


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(tmp_path / "receiver.db")
    yield s
    await s.close()


async def _send(store: SqliteStore, ctx: Context, *alerts: dict[str, Any]) -> Outcome:
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    payload = parse_payload(am_payload("g", list(alerts), status=status))
    return await store.write(lambda tx: process(tx, ctx, payload, "cid", time.time()))


async def test_two_startsat_for_one_alert_notify_once(store: SqliteStore) -> None:
    ctx = Context.from_config(default_config())
    first = await _send(store, ctx, am_alert("a", starts=T))
    other = await _send(store, ctx, am_alert("a", starts=T_5S))
    assert first.created and len(first.notifications) == 1
    assert not other.created and not other.notifications and other.duplicates == 1
    resolved = am_alert("a", status="resolved", starts=T_5S)
    done = await _send(store, ctx, resolved)
    again = await _send(store, ctx, {**resolved, "startsAt": T, "endsAt": T_30M})
    assert len(done.notifications) == 1 and not again.notifications


async def test_a_lagging_copy_reopens_nothing_and_a_refire_pages(store: SqliteStore) -> None:
    ctx = Context.from_config(default_config())
    first = await _send(store, ctx, am_alert("a", starts=T))
    end = {**am_alert("a", status="resolved", starts=T), "endsAt": T_20M}
    assert len((await _send(store, ctx, end)).notifications) == 1
    lagging = await _send(store, ctx, am_alert("a", starts=T_5S))
    assert not lagging.created and not lagging.notifications and lagging.duplicates == 1
    refire = await _send(store, ctx, am_alert("a", starts=T_30M))
    assert refire.created and refire.incident_id != first.incident_id
    assert len(refire.notifications) == 1
    # The re-fire's episode is now the one judged: its repeats page nobody.
    assert not (await _send(store, ctx, am_alert("a", starts=T_30M))).notifications


def test_an_older_database_gets_its_episodes_from_its_incidents(tmp_path: Path) -> None:
    path = tmp_path / "receiver.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for version, statements in enumerate(MIGRATIONS[:2], start=1):
        for sql in statements:
            conn.execute(sql)
        conn.execute("INSERT INTO schema_version VALUES (?)", (version,))
    incident = (
        "INSERT INTO incidents (id, key, receiver, group_key, state, severity, group_labels,"
        " common_labels, common_annotations, external_url, truncated_alerts, correlation_id,"
        " storm, route_channels, route_policies, created_at, updated_at)"
        " VALUES (?, 'k', 'r', 'g', ?, 'warning', '{}', '{}', '{}', '', 0, 'c', 0, '[]', '[]',"
        " 0, 0)"
    )
    alert = (
        "INSERT INTO incident_alerts (incident_id, fingerprint, status, labels, annotations,"
        " starts_at, starts_ts, generator_url, updated_at)"
        " VALUES (?, ?, ?, '{}', '{}', '', ?, '', ?)"
    )
    conn.execute(incident, (1, "resolved"))
    conn.execute(alert, (1, "a", "resolved", 100.0, 150.0))
    conn.execute(alert, (1, "b", "resolved", 100.0, 160.0))
    conn.execute(incident, (2, "firing"))
    conn.execute(alert, (2, "a", "firing", 200.0, 210.0))
    migrate(conn)
    rows = conn.execute(
        "SELECT fingerprint, status, starts_ts, ends_ts, incident_id FROM alert_episodes"
        " ORDER BY fingerprint"
    ).fetchall()
    conn.close()
    assert rows == [("a", "firing", 200.0, None, 2), ("b", "resolved", 100.0, 160.0, 1)]
