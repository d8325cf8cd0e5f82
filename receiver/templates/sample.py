"""A representative notification for `render` without a payload and for check-config."""

from __future__ import annotations

from typing import Any

from receiver.model.digest import digest_entry, digest_summary
from receiver.model.notification import Notification, NotificationKind

_EXTERNAL_URL = "http://alertmanager.example:9093"


def _alert(name: str, status: str, instance: str, severity: str) -> dict[str, Any]:
    return {
        "fingerprint": f"{name}-{instance}",
        "status": status,
        "labels": {
            "alertname": name,
            "instance": instance,
            "job": "node",
            "severity": severity,
        },
        "annotations": {
            "summary": f"{name} on {instance}",
            "description": f"{name} has been active on {instance} for 10 minutes.",
            "runbook_url": f"https://runbooks.example/{name}",
            "suggested_fix": "Free some space or grow the volume.",
            "dashboard_url": "https://grafana.example/d/node",
        },
        "starts_at": "2024-05-01T10:00:00Z",
        "ends_at": "2024-05-01T10:30:00Z" if status == "resolved" else "",
        "generator_url": "http://prometheus.example:9090/graph?g0.expr=up",
    }


def sample_incident() -> dict[str, Any]:
    """An incident snapshot with two firing alerts and one resolved one."""
    return {
        "id": 42,
        "key": 'sample-receiver/{}:{alertname="HostDiskFull"}',
        "receiver": "sample-receiver",
        "group_key": '{}:{alertname="HostDiskFull"}',
        "state": "firing",
        "severity": "critical",
        "group_labels": {"alertname": "HostDiskFull"},
        "common_labels": {"alertname": "HostDiskFull", "job": "node", "severity": "critical"},
        "common_annotations": {"summary": "Disk almost full"},
        "external_url": _EXTERNAL_URL,
        "created_at": "2024-05-01T10:00:05Z",
        "updated_at": "2024-05-01T10:30:05Z",
        "acked_by": "alice",
        "acked_at": "2024-05-01T10:05:00Z",
        "ack_comment": "looking",
        "truncated_alerts": 0,
        "alerts": [
            _alert("HostDiskFull", "firing", "db1:9100", "critical"),
            _alert("HostDiskFull", "firing", "db2:9100", "critical"),
            _alert("HostDiskFull", "resolved", "web1:9100", "critical"),
        ],
    }


def sample_notification(kind: NotificationKind, channel: str = "sample") -> Notification:
    """A notification of `kind` built on the sample incident."""
    incident = sample_incident()
    digest: list[dict[str, Any]] = []
    if kind == "digest":
        # Shaped as the outbox stores a digest: a summary with no incident of its own.
        resolved = {**incident, "id": 43, "state": "resolved"}
        digest = [digest_entry(1, "firing", incident, "storm")]
        digest.append(digest_entry(2, "resolved", resolved, "storm"))
        incident = digest_summary(digest)
    return Notification(
        id=1,
        channel=channel,
        kind=kind,
        idempotency_key=f"sample-{kind}",
        correlation_id="sample-correlation-id",
        incident=incident,
        escalation_step=1 if kind == "escalation" else None,
        digest=digest,
    )
