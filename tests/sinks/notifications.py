"""Build channel notifications from Alertmanager payload fixtures, as the core stores them.

Channel tests feed channels the same JSON snapshot shape the outbox stores
(`receiver.channels.base.Notification.incident`), built from real Alertmanager payloads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from receiver.model.notification import Notification, NotificationKind

PAYLOADS = Path(__file__).resolve().parent.parent / "fixtures" / "payloads"
_ZERO_TIME = "0001-01-01T00:00:00Z"


def load_payload(name: str) -> dict[str, Any]:
    """An Alertmanager webhook payload from tests/fixtures/payloads."""
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return data


def incident_from_payload(payload: dict[str, Any], incident_id: int = 1) -> dict[str, Any]:
    """The incident snapshot the core would store for this payload."""
    alerts = [
        {
            "fingerprint": a.get("fingerprint", ""),
            "status": a.get("status", "firing"),
            "labels": a.get("labels", {}),
            "annotations": a.get("annotations", {}),
            "starts_at": a.get("startsAt", ""),
            "ends_at": "" if a.get("endsAt") == _ZERO_TIME else a.get("endsAt", ""),
            "generator_url": a.get("generatorURL", ""),
        }
        for a in payload.get("alerts", [])
    ]
    alerts.sort(key=lambda a: 0 if a["status"] == "firing" else 1)
    common = payload.get("commonLabels", {})
    return {
        "id": incident_id,
        "key": f"{payload.get('receiver', '')}/{payload.get('groupKey', '')}",
        "receiver": payload.get("receiver", ""),
        "group_key": payload.get("groupKey", ""),
        "state": payload.get("status", "firing"),
        "severity": common.get("severity", "none"),
        "group_labels": payload.get("groupLabels", {}),
        "common_labels": common,
        "common_annotations": payload.get("commonAnnotations", {}),
        "external_url": payload.get("externalURL", ""),
        "created_at": "2024-05-01T10:00:05Z",
        "updated_at": "2024-05-01T10:00:05Z",
        "acked_by": None,
        "acked_at": None,
        "ack_comment": None,
        "truncated_alerts": payload.get("truncatedAlerts", 0),
        "alerts": alerts,
    }


def notification(
    name: str = "disk_full.json",
    kind: NotificationKind = "firing",
    channel: str = "test-channel",
    incident: dict[str, Any] | None = None,
    notification_id: int = 1,
) -> Notification:
    """A notification for a payload fixture (or a given incident snapshot)."""
    snapshot = incident if incident is not None else incident_from_payload(load_payload(name))
    return Notification(
        id=notification_id,
        channel=channel,
        kind=kind,
        idempotency_key=f"{snapshot['id']}:{kind}:{notification_id}",
        correlation_id="corr-0001",
        incident=snapshot,
        escalation_step=2 if kind == "escalation" else None,
    )


def huge_incident(alerts: int = 500, description_chars: int = 10_000) -> dict[str, Any]:
    """An incident with many firing alerts whose descriptions are very long."""
    words = ("disk pressure rising on volume " * (description_chars // 31 + 1))[:description_chars]
    snapshot = incident_from_payload(load_payload("disk_full.json"))
    snapshot["alerts"] = [
        {
            "fingerprint": f"{i:016x}",
            "status": "firing",
            "labels": {
                "alertname": "HostDiskFull",
                "instance": f"host{i:04d}:9100",
                "severity": "critical",
            },
            "annotations": {
                "summary": f"Disk full on host{i:04d} " + "x" * 40,
                "description": words,
                "runbook_url": "https://runbooks.example/HostDiskFull",
                "suggested_fix": words[:3000],
            },
            "starts_at": "2024-05-01T10:00:00Z",
            "ends_at": "",
            "generator_url": "http://prometheus.example:9090/graph?g0.expr=x",
        }
        for i in range(alerts)
    ]
    return snapshot
