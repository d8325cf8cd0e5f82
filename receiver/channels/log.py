"""The `log` channel: one structured log line per notification (the embedded default).

The line's level follows the incident's severity (critical → error, warning → warning,
info → info), so a log pipeline can alert on errors without paging on every info
notice; a recovery (resolved) is logged at info and a digest at the level of its most
severe incident. `level` fixes one level for every line; `severity_levels` changes
the mapping, and `default_level` is used for a severity it does not name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import structlog

from receiver.channels.base import Channel, SendResult, register
from receiver.model.notification import Notification

log = structlog.get_logger("receiver.notify")

Level = Literal["debug", "info", "warning", "error"]
LEVELS: tuple[Level, ...] = ("debug", "info", "warning", "error")
DEFAULT_SEVERITY_LEVELS: dict[str, Level] = {
    "critical": "error",
    "page": "error",
    "error": "error",
    "warning": "warning",
    "warn": "warning",
    "info": "info",
    "none": "info",
}


@dataclass
class LogChannelConfig:
    """`level` fixes the level of every line; otherwise the severity picks it."""

    level: Level | None = None
    severity_levels: dict[str, Level] = field(default_factory=dict)
    default_level: Level = "warning"

    def level_for(self, severity: object) -> Level:
        """The level for an incident of `severity` (before `level` and kind are applied)."""
        mapping = {**DEFAULT_SEVERITY_LEVELS, **self.severity_levels}
        return mapping.get(str(severity or "").lower(), self.default_level)


def notification_level(config: LogChannelConfig, notification: Notification) -> Level:
    """The level the notification's line is logged at."""
    if config.level is not None:
        return config.level
    if notification.kind == "resolved":
        return "info"
    if notification.kind == "digest" and notification.digest:
        levels = [config.level_for(d.get("severity")) for d in notification.digest]
        return max(levels, key=LEVELS.index)
    return config.level_for(notification.incident.get("severity"))


@register
class LogChannel(Channel):
    """Writes the notification's structured fields to the receiver's log."""

    type = "log"
    Config = LogChannelConfig
    config: LogChannelConfig

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
        getattr(log, notification_level(self.config, notification))("notification", **fields)
        return SendResult.delivered(status="logged")
