"""What a digest notification is stored with: a summary plus the folded incidents.

The outbox writes digests with these functions, and `render --kind digest` and
check-config's sample build their previews with them, so a preview carries exactly the
ids and links a real digest does (no incident of its own, no Alertmanager link; an id
on every entry).
"""

from __future__ import annotations

from typing import Any


def digest_entry(
    notification_id: int, kind: str, snapshot: dict[str, Any], folded_reason: str | None
) -> dict[str, Any]:
    """One folded notification as a digest lists it: its incident's snapshot, marked."""
    return {
        **snapshot,
        "notification_id": notification_id,
        "notification_kind": kind,
        "folded_reason": folded_reason,
    }


def digest_summary(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The digest's own snapshot (the `incident` a channel sees for it): how many entries
    and the ids of their incidents, in order of first appearance."""
    ids = list(dict.fromkeys(e["id"] for e in entries if e.get("id") is not None))
    return {"count": len(entries), "incident_ids": ids, "state": "digest", "alerts": []}


def digest_snapshot(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The snapshot a digest notification row is stored with (summary and `digest`)."""
    return {**digest_summary(entries), "digest": entries}
