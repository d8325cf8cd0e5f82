"""An incident's timeline: what happened to it, in order (served with the incident)."""

from __future__ import annotations

from typing import Any

from receiver.store.base import Tx
from receiver.store.jsontext import dumps_sorted


def timeline(tx: Tx, incident_id: int, at: float, event: str, **detail: Any) -> None:
    """Append an entry to an incident's timeline."""
    tx.send(
        "INSERT INTO timeline (incident_id, at, event, detail) VALUES (?, ?, ?, ?)",
        (incident_id, at, event, dumps_sorted(detail)),
    )
