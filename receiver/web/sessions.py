"""Server-side sessions of the incidents page, kept in the store so they survive a restart.

The cookie holds 32 random bytes; the store keeps only their SHA-256, so a copy of the
database (a backup) holds no session anyone could use. Signing out deletes the row, so
a copied cookie dies with it, which a signed stateless cookie could not do before expiry.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from receiver.store.base import Store, Tx

COOKIE = "tocsin_session"
# Beyond this many live sessions the oldest go first: a client opening session after
# session (without auth, each first visit opens one) cannot grow the table without bound.
MAX_SESSIONS = 10_000


@dataclass(frozen=True)
class Session:
    """A signed-in person: the token's name and the CSRF token of this session."""

    name: str
    csrf: str
    expires_at: float


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("utf-8", "surrogateescape")).hexdigest()


async def create(store: Store, name: str, ttl: float, now: float) -> tuple[str, Session]:
    """A new session for `name`: (the cookie value, the session). Expired sessions are
    pruned, and the oldest beyond MAX_SESSIONS - 1 so that this one fits."""
    cookie = secrets.token_urlsafe(32)
    session = Session(name, secrets.token_urlsafe(32), now + ttl)

    def insert(tx: Tx) -> None:
        tx.execute("DELETE FROM web_sessions WHERE expires_at < ?", (now,))
        tx.execute(
            "DELETE FROM web_sessions WHERE created_at <= (SELECT created_at FROM web_sessions"
            " ORDER BY created_at DESC LIMIT 1 OFFSET ?)",
            (MAX_SESSIONS - 1,),
        )
        tx.execute(
            "INSERT INTO web_sessions (id_sha256, name, csrf, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (_digest(cookie), name, session.csrf, now, session.expires_at),
        )

    await store.write(insert)
    return cookie, session


async def lookup(store: Store, cookie: str, now: float) -> Session | None:
    """The live session of a cookie value, or None (unknown, signed out or expired)."""
    if not cookie or len(cookie) > 128:
        return None
    row = await store.read(
        lambda tx: tx.one(
            "SELECT name, csrf, expires_at FROM web_sessions WHERE id_sha256 = ?",
            (_digest(cookie),),
        )
    )
    if row is None or row["expires_at"] <= now:
        return None
    return Session(row["name"], row["csrf"], row["expires_at"])


async def delete(store: Store, cookie: str) -> None:
    """Sign out: the session's row goes, so the cookie no longer works anywhere."""
    await store.write(
        lambda tx: tx.execute("DELETE FROM web_sessions WHERE id_sha256 = ?", (_digest(cookie),))
    )


async def last_visit(store: Store, name: str, now: float) -> float | None:
    """When `name` last opened the list (None the first time); records `now` as the visit."""

    def swap(tx: Tx) -> float | None:
        row = tx.one("SELECT seen_at FROM web_visits WHERE name = ?", (name,))
        tx.execute(
            "INSERT INTO web_visits (name, seen_at) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET seen_at = excluded.seen_at",
            (name, now),
        )
        return None if row is None else float(row["seen_at"])

    return await store.write(swap, durable=False)
