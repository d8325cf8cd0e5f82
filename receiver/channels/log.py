"""The `log` channel: one structured log line per notification (the embedded default)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import structlog

from receiver.channels.base import Channel, SendResult, register
from receiver.model.notification import Notification

log = structlog.get_logger("receiver.notify")


@dataclass
class LogChannelConfig:
    level: Literal["debug", "info", "warning", "error"] = "warning"


@register
class LogChannel(Channel):
    """Writes the notification's structured fields to the receiver's log."""

    type = "log"
    Config = LogChannelConfig

    async def deliver(self, notification: Notification) -> SendResult:
        inc = notification.incident
        fields = {
            "channel": self.name,
            "kind": notification.kind,
            "notification_id": notification.id,
            "idempotency_key": notification.idempotency_key,
            "correlation_id": notification.correlation_id,
            "incident_id": inc.get("id"),
            "state": inc.get("state"),
            "severity": inc.get("severity"),
            "group_labels": inc.get("group_labels"),
            "alerts_firing": sum(1 for a in inc.get("alerts", []) if a["status"] == "firing"),
            "alerts": len(inc.get("alerts", [])),
            "escalation_step": notification.escalation_step,
        }
        if notification.kind == "digest":
            fields["digest_count"] = len(notification.digest)
            fields["digest_incidents"] = sorted(
                {d.get("id") for d in notification.digest if d.get("id") is not None}
            )
        level = getattr(self.config, "level", "warning")
        getattr(log, level)("notification", **fields)
        return SendResult.delivered(status="logged")
