"""Page sessions in a real SQLite store: lookup by cookie only, expiry, sign-out, the cap."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from receiver.store.sqlite import SqliteStore
from receiver.web import sessions


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(tmp_path / "receiver.db")
    yield s
    await s.close()


async def test_a_session_is_found_by_its_cookie_until_it_expires_or_is_deleted(
    store: SqliteStore,
) -> None:
    cookie, made = await sessions.create(store, "alice", ttl=60, now=1000.0)
    assert await sessions.lookup(store, cookie, 1030.0) == made
    assert await sessions.lookup(store, cookie + "x", 1030.0) is None
    assert await sessions.lookup(store, cookie, 1060.0) is None  # expired
    other, _ = await sessions.create(store, "alice", ttl=60, now=2000.0)
    await sessions.delete(store, other)
    assert await sessions.lookup(store, other, 2001.0) is None
    # Only the cookie's digest is stored.
    rows = await store.read(lambda tx: tx.all("SELECT * FROM web_sessions"))
    assert all(cookie not in str(row) and other not in str(row) for row in rows)


async def test_the_oldest_sessions_go_beyond_the_cap(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions, "MAX_SESSIONS", 3)
    cookies = [(await sessions.create(store, "anon", 600, 100.0 + i))[0] for i in range(5)]
    live = [await sessions.lookup(store, c, 200.0) is not None for c in cookies]
    assert live == [False, False, True, True, True]


async def test_last_visit_returns_the_previous_one(store: SqliteStore) -> None:
    assert await sessions.last_visit(store, "alice", 10.0) is None
    assert await sessions.last_visit(store, "alice", 20.0) == 10.0
    assert await sessions.last_visit(store, "bob", 30.0) is None
