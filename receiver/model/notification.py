"""What a channel is asked to send: one stored outbox row, as the channel interface sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

NotificationKind = Literal[
    "firing", "resolved", "escalation", "repeat", "digest", "test", "acknowledged"
]


@dataclass(frozen=True)
class Notification:
    """One message for one channel, exactly as stored in the outbox.

    `incident` is a JSON snapshot taken when the notification was created (see
    `receiver.model.snapshot.incident_snapshot`): id, key, receiver, group_key, state, severity,
    group_labels, common_labels, common_annotations, external_url, created_at,
    updated_at, acked_by, acked_at, ack_comment, truncated_alerts and `alerts`
    (each: fingerprint, status, labels, annotations, starts_at, ends_at, generator_url).
    For a `digest`, `digest` holds the folded incidents' snapshots instead.
    `message_ref` is what the channel returned for its first message about the incident
    (see `Channel.keeps_message`), for channels that edit that message in place.
    """

    id: int
    channel: str
    kind: NotificationKind
    idempotency_key: str
    correlation_id: str
    incident: dict[str, Any]
    escalation_step: int | None = None
    digest: list[dict[str, Any]] = field(default_factory=list)
    attempt: int = 1
    message_ref: str | None = None
