"""Each link acts once: its nonce is stored when used, and kept until the link expires
(after that the signature check refuses it anyway, so the row can go)."""

from __future__ import annotations

from receiver.store.base import Tx


def consume(tx: Tx, nonce: str, expires: float, now: float) -> bool:
    """Record `nonce` as used; False if it was used before. Expired nonces are pruned.

    One statement decides, so two replicas posting the same link at once on a shared
    PostgreSQL cannot both win: the primary key lets exactly one insert through."""
    tx.execute("DELETE FROM action_link_nonces WHERE expires_at <= ?", (now,))
    tx.execute(
        "INSERT INTO action_link_nonces (nonce, expires_at, used_at) VALUES (?, ?, ?)"
        " ON CONFLICT (nonce) DO NOTHING",
        (nonce, expires, now),
    )
    return tx.rowcount() == 1
