"""Send one stored notification through its channel; a channel that raises is a retry."""

from __future__ import annotations

import json
from typing import Any

import structlog

from receiver.channels.base import Channel, SendResult
from receiver.model.notification import Notification
from receiver.store.base import Row

log = structlog.get_logger("receiver.outbox")


def to_notification(row: Row) -> Notification:
    """An outbox row as the channel interface's Notification."""
    snapshot: dict[str, Any] = json.loads(row["snapshot"])
    digest: list[dict[str, Any]] = []
    if row["kind"] == "digest":
        digest = snapshot.pop("digest", [])
    return Notification(
        id=int(row["id"]),
        channel=row["channel"],
        kind=row["kind"],
        idempotency_key=row["idempotency_key"],
        correlation_id=row["correlation_id"],
        incident=snapshot,
        escalation_step=row["escalation_step"],
        digest=digest,
        attempt=int(row["attempts"]) + 1,
    )


async def send(channel: Channel | None, n: Notification) -> SendResult:
    """The channel's answer; an unconfigured channel is permanent, an exception retryable."""
    if channel is None:
        return SendResult.permanent(f"channel {n.channel!r} is not configured")
    try:
        return await channel.send(n)
    except Exception as exc:
        log.exception("channel_raised")
        return SendResult.retryable(f"channel raised {type(exc).__name__}: {exc}")
