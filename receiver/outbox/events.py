"""Delivery outcomes as events for Server-Sent Events subscribers: every recorded attempt
is a `delivery` (sent or failed), and a notification set aside is also a `deadletter`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from receiver.channels.base import SendResult
from receiver.model.notification import Notification


def publish_outcome(
    publish: Callable[[str, dict[str, Any]], None],
    n: Notification,
    incident_id: int | None,
    result: SendResult,
    outcome: str,
) -> None:
    """Publish the recorded attempt (`outcome` as `record_attempt` returned it, once
    committed): delivered, retry or dead_letter."""
    common = {
        "notification_id": n.id,
        "incident_id": incident_id,
        "channel": n.channel,
        "kind": n.kind,
    }
    publish(
        "delivery",
        {
            **common,
            "attempt": n.attempt,
            "outcome": "sent" if result.ok else "failed",
            "retry": outcome == "retry",
            "status": result.status,
            "error": result.error,
        },
    )
    if outcome == "dead_letter":
        publish("deadletter", {**common, "attempts": n.attempt, "error": result.error})
