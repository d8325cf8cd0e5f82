"""Incident snapshots: the JSON shape stored with every notification and served by the API."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from receiver.store.base import Row, Tx
from receiver.store.jsontext import scalar

SEVERITY_ORDER = {"critical": 0, "error": 1, "warning": 2, "info": 3}


def iso(ts: float | None) -> str | None:
    """Unix seconds → RFC 3339 UTC (None stays None)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def alert_dict(row: Row) -> dict[str, Any]:
    """One incident_alerts row as the snapshot's alert object."""
    return {
        "fingerprint": row["fingerprint"],
        "status": row["status"],
        "labels": json.loads(row["labels"]),
        "annotations": json.loads(row["annotations"]),
        "starts_at": row["starts_at"],
        "ends_at": row["ends_at"],
        "generator_url": row["generator_url"],
    }


def incident_dict(row: Row, alerts: list[Row]) -> dict[str, Any]:
    """An incidents row plus its alerts, in the documented snapshot shape."""
    return {
        "id": row["id"],
        "key": row["key"],
        "receiver": row["receiver"],
        "group_key": row["group_key"],
        "state": row["state"],
        "severity": row["severity"],
        "group_labels": json.loads(row["group_labels"]),
        "common_labels": json.loads(row["common_labels"]),
        "common_annotations": json.loads(row["common_annotations"]),
        "external_url": row["external_url"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "resolved_at": iso(row["resolved_at"]),
        "acked_by": row["acked_by"],
        "acked_at": iso(row["acked_at"]),
        "ack_comment": row["ack_comment"],
        "truncated_alerts": row["truncated_alerts"],
        "correlation_id": row["correlation_id"],
        "alerts": [alert_dict(a) for a in alerts],
    }


def _incident_rows(tx: Tx, incident_id: int) -> tuple[Row, list[Row]]:
    """An incident's row and its alerts' rows, firing first; KeyError if it is gone."""
    row = tx.one("SELECT * FROM incidents WHERE id = ?", (incident_id,))
    if row is None:
        raise KeyError(incident_id)
    alerts = tx.all(
        "SELECT * FROM incident_alerts WHERE incident_id = ? "
        "ORDER BY CASE status WHEN 'firing' THEN 0 ELSE 1 END, starts_ts, fingerprint",
        (incident_id,),
    )
    return row, alerts


def incident_snapshot(tx: Tx, incident_id: int) -> dict[str, Any]:
    """Read an incident and its alerts (firing first) as a JSON-ready snapshot."""
    row, alerts = _incident_rows(tx, incident_id)
    return incident_dict(row, alerts)


def severity_of(common: dict[str, str], alert_labels: list[dict[str, str]]) -> str:
    """The incident's severity: the common label, else the most severe alert's."""
    if "severity" in common:
        return common["severity"]
    found = [lbl["severity"] for lbl in alert_labels if "severity" in lbl]
    if not found:
        return "none"
    return min(found, key=lambda s: SEVERITY_ORDER.get(s, 99))


_JSON_COLUMNS = ("group_labels", "common_labels", "common_annotations")
_PLAIN_COLUMNS = (
    "id",
    "key",
    "receiver",
    "group_key",
    "state",
    "severity",
    "external_url",
    "acked_by",
    "ack_comment",
    "truncated_alerts",
    "correlation_id",
)
_TIME_COLUMNS = ("created_at", "updated_at", "resolved_at", "acked_at")


def incident_snapshot_text(tx: Tx, incident_id: int) -> tuple[str, Row]:
    """The snapshot as JSON text, composed from the stored JSON columns without decoding
    them (the hot path of every notification); also returns the incident row."""
    row, alerts = _incident_rows(tx, incident_id)
    dumps = scalar
    parts = [f'"{c}": {dumps(row[c])}' for c in _PLAIN_COLUMNS]
    parts += [f'"{c}": {dumps(iso(row[c]))}' for c in _TIME_COLUMNS]
    parts += [f'"{c}": {row[c]}' for c in _JSON_COLUMNS]
    alert_parts = [
        "{"
        f'"fingerprint": {dumps(a["fingerprint"])}, "status": {dumps(a["status"])}, '
        f'"labels": {a["labels"]}, "annotations": {a["annotations"]}, '
        f'"starts_at": {dumps(a["starts_at"])}, "ends_at": {dumps(a["ends_at"])}, '
        f'"generator_url": {dumps(a["generator_url"])}'
        "}"
        for a in alerts
    ]
    parts.append(f'"alerts": [{", ".join(alert_parts)}]')
    return "{" + ", ".join(parts) + "}", row
