"""Each link acts once: its nonce is stored when used, and kept until the link expires
(after that the signature check refuses it anyway, so the row can go)."""

from __future__ import annotations

from receiver.store.base import Tx


def consume(tx: Tx, nonce: str, expires: float, now: float) -> bool:
    """Record `nonce` as used; False if it was used before. Expired nonces are pruned."""
    tx.execute("DELETE FROM action_link_nonces WHERE expires_at <= ?", (now,))
    if tx.one("SELECT 1 AS used FROM action_link_nonces WHERE nonce = ?", (nonce,)):
        return False
    tx.execute(
        "INSERT INTO action_link_nonces (nonce, expires_at, used_at) VALUES (?, ?, ?)",
        (nonce, expires, now),
    )
    return True
