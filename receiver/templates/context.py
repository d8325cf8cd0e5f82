"""Build the variables a message template sees from a stored notification.

Templates never see the raw snapshot alone: firing and resolved alerts are split, the
well-known annotations are lifted onto each alert (always present, possibly empty, so
templates work under StrictUndefined), and links back to Alertmanager are precomputed.
A `dashboard_url` that is a path (the shipped rules write `/d/<uid>/<slug>?viewPanel=...`)
is joined to the configured `grafana_url`, so the Grafana address is set once.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from receiver.model.notification import Notification

WELL_KNOWN_ANNOTATIONS = ("summary", "description", "runbook_url", "suggested_fix", "dashboard_url")

# Which alerts a message of each kind is about: a firing page never lists resolved alerts
# and a resolved message never lists firing ones.
_RELEVANT_STATUS: dict[str, str | None] = {
    "firing": "firing",
    "escalation": "firing",
    "repeat": "firing",
    "acknowledged": "firing",
    "resolved": "resolved",
    "test": None,
    "digest": None,
}


def silence_url(external_url: str, labels: dict[str, Any]) -> str:
    """Alertmanager's "new silence" link pre-filled with a matcher per label."""
    if not external_url or not labels:
        return ""
    matchers = ", ".join(
        f'{k}="{_escape_matcher(str(v))}"' for k, v in sorted(labels.items()) if k and v != ""
    )
    query = quote("{" + matchers + "}", safe="")
    return f"{external_url.rstrip('/')}/#/silences/new?filter={query}"


def dashboard_link(url: str, grafana_url: str) -> str:
    """`url` joined to `grafana_url` when it is a path; an absolute URL (or a path with
    no base configured) is returned as it is."""
    if grafana_url and url.startswith("/") and not url.startswith("//"):
        return grafana_url.rstrip("/") + url
    return url


def _escape_matcher(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def alert_context(
    alert: dict[str, Any], external_url: str, grafana_url: str = ""
) -> dict[str, Any]:
    """One alert as templates see it: the snapshot plus lifted annotations and links."""
    labels = dict(alert.get("labels") or {})
    annotations = dict(alert.get("annotations") or {})
    ctx: dict[str, Any] = {
        "fingerprint": alert.get("fingerprint", ""),
        "status": alert.get("status", "firing"),
        "labels": labels,
        "annotations": annotations,
        "starts_at": alert.get("starts_at") or "",
        "ends_at": alert.get("ends_at") or "",
        "generator_url": alert.get("generator_url") or "",
        "name": str(labels.get("alertname", "")),
        "severity": str(labels.get("severity", "")),
        "silence_url": silence_url(external_url, labels),
    }
    for key in WELL_KNOWN_ANNOTATIONS:
        ctx[key] = str(annotations.get(key, "") or "")
    ctx["dashboard_url"] = dashboard_link(ctx["dashboard_url"], grafana_url)
    return ctx


def relevant_alerts(kind: str, alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The alerts a message of this kind talks about (firing and resolved kept apart)."""
    status = _RELEVANT_STATUS.get(kind)
    if status is None:
        return list(alerts)
    return [a for a in alerts if a.get("status", "firing") == status]


def incident_context(incident: dict[str, Any], kind: str, grafana_url: str = "") -> dict[str, Any]:
    """Variables describing one incident snapshot (also used for each digest entry)."""
    external_url = str(incident.get("external_url") or "")
    all_alerts = [alert_context(a, external_url, grafana_url) for a in incident.get("alerts") or []]
    firing = [a for a in all_alerts if a["status"] == "firing"]
    resolved = [a for a in all_alerts if a["status"] == "resolved"]
    status = _RELEVANT_STATUS.get(kind)
    relevant = all_alerts if status is None else [a for a in all_alerts if a["status"] == status]
    labels = dict(incident.get("common_labels") or {})
    group_labels = dict(incident.get("group_labels") or {})
    annotations = dict(incident.get("common_annotations") or {})
    first = relevant[0] if relevant else (all_alerts[0] if all_alerts else None)
    ctx: dict[str, Any] = {
        "incident": incident,
        "id": incident.get("id", ""),
        "key": incident.get("key", ""),
        "state": incident.get("state", ""),
        "severity": str(incident.get("severity") or labels.get("severity") or ""),
        "labels": labels,
        "group_labels": group_labels,
        "annotations": annotations,
        "external_url": external_url,
        "silence_url": silence_url(external_url, group_labels or labels),
        "all_alerts": all_alerts,
        "firing": firing,
        "resolved": resolved,
        "relevant": relevant,
        "alertname": str(labels.get("alertname") or (first["name"] if first else "")),
        "acked_by": incident.get("acked_by") or "",
        "acked_at": incident.get("acked_at") or "",
        "ack_comment": incident.get("ack_comment") or "",
        "truncated_alerts": int(incident.get("truncated_alerts") or 0),
    }
    for key in WELL_KNOWN_ANNOTATIONS:
        value = annotations.get(key) or (first[key] if first else "")
        ctx[key] = str(value or "")
    ctx["dashboard_url"] = dashboard_link(ctx["dashboard_url"], grafana_url)
    return ctx


def build_context(
    notification: Notification, channel: str, limit: int | None = None, grafana_url: str = ""
) -> dict[str, Any]:
    """Template variables for a notification, showing at most `limit` relevant alerts.

    `alerts` is the (possibly shortened) list to show and `more` how many were left out,
    including alerts the core already dropped when it stored the incident. For a digest
    the limit applies to the folded incidents in `digest` instead. `incident_ids` are
    the ids of every incident the message is about (a digest has none of its own).
    """
    ctx = incident_context(notification.incident, notification.kind, grafana_url)
    relevant: list[dict[str, Any]] = ctx["relevant"]
    more = ctx["truncated_alerts"]
    if notification.kind == "digest":
        entries = notification.digest if limit is None else notification.digest[: max(limit, 0)]
        shown_digest = [incident_context(i, "digest", grafana_url) for i in entries]
        more = len(notification.digest) - len(entries)
        shown = relevant
    else:
        shown_digest = [incident_context(i, "digest", grafana_url) for i in notification.digest]
        shown = relevant if limit is None else relevant[: max(limit, 0)]
        more += len(relevant) - len(shown)
    if notification.kind == "digest":
        incident_ids = list(notification.incident.get("incident_ids") or [])
        incident_ids = incident_ids or [i.get("id") for i in notification.digest]
    else:
        incident_ids = [ctx["id"]]
    ctx.update(
        incident_ids=[i for i in incident_ids if i is not None and i != ""],
        kind=notification.kind,
        channel=channel,
        correlation_id=notification.correlation_id,
        escalation_step=notification.escalation_step,
        notification_id=notification.id,
        attempt=notification.attempt,
        is_test=notification.kind == "test",
        alerts=shown,
        more=more,
        digest=shown_digest,
    )
    return ctx


def relevant_count(notification: Notification) -> int:
    """How many alerts the notification's kind is about (the budget fitter's upper bound)."""
    if notification.kind == "digest":
        return len(notification.digest)
    return len(relevant_alerts(notification.kind, list(notification.incident.get("alerts") or [])))
