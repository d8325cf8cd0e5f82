"""Incidents: list with filters, detail with notifications/attempts/timeline, ack/unack/resolve."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from receiver.api.bodies import comment_of, json_body
from receiver.api.params import int_param, limit_param
from receiver.api.writes import act
from receiver.http.errors import JSONHTTPError
from receiver.http.state import app_state, require
from receiver.matchers import Matcher, matches_all, parse_matcher
from receiver.model.snapshot import incident_dict, incident_snapshot, iso
from receiver.pipeline import actions
from receiver.store.base import Row, Tx

STATES = ("firing", "acknowledged", "resolved")
_MAX_LIMIT = 1000
_BATCH = 500


def _filters(request: web.Request) -> tuple[list[str], list[str], list[Matcher], int]:
    q = request.query
    states = q.getall("state", [])
    for s in states:
        if s not in STATES:
            raise JSONHTTPError(400, f"expected one of {', '.join(STATES)}", field="state")
    severities = q.getall("severity", [])
    matchers: list[Matcher] = []
    for text in q.getall("match", []):
        try:
            matchers.append(parse_matcher(text))
        except ValueError as exc:
            raise JSONHTTPError(400, str(exc), field="match") from None
    limit = limit_param(request, default=100, maximum=_MAX_LIMIT)
    return states, severities, matchers, limit


def list_incidents(
    tx: Tx, states: list[str], severities: list[str], matchers: list[Matcher], limit: int
) -> list[dict[str, Any]]:
    """Newest first; label matchers apply to common labels merged with group labels."""
    sql = "SELECT * FROM incidents"
    where: list[str] = []
    params: list[Any] = []
    if states:
        where.append(f"state IN ({','.join('?' * len(states))})")
        params += states
    if severities:
        where.append(f"severity IN ({','.join('?' * len(severities))})")
        params += severities
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC"
    out: list[dict[str, Any]] = []
    offset = 0
    while len(out) < limit:
        rows = tx.all(sql + " LIMIT ? OFFSET ?", (*params, _BATCH, offset))
        if not rows:
            break
        offset += len(rows)
        for row in rows:
            labels = {**json.loads(row["common_labels"]), **json.loads(row["group_labels"])}
            if matches_all(matchers, labels):
                out.append(_summary(row))
                if len(out) >= limit:
                    break
        if len(rows) < _BATCH:
            break
    return out


def _summary(row: Row) -> dict[str, Any]:
    doc = incident_dict(row, [])
    del doc["alerts"]
    return doc


def incident_detail(tx: Tx, incident_id: int) -> dict[str, Any] | None:
    """Alerts, notifications with their attempts, and the timeline."""
    try:
        doc = incident_snapshot(tx, incident_id)
    except KeyError:
        return None
    notes = tx.all(
        "SELECT id, channel, kind, state, attempts, idempotency_key, correlation_id,"
        " escalation_step, digest_id, created_at, updated_at, last_error, folded_reason"
        " FROM notifications WHERE incident_id = ? ORDER BY id",
        (incident_id,),
    )
    doc["notifications"] = with_attempts(tx, notes)
    doc["timeline"] = [
        {"at": iso(t["at"]), "event": t["event"], **json.loads(t["detail"])}
        for t in tx.all(
            "SELECT at, event, detail FROM timeline WHERE incident_id = ? ORDER BY id",
            (incident_id,),
        )
    ]
    return doc


def with_attempts(tx: Tx, notifications: list[Row]) -> list[Row]:
    """Notification rows with ISO timestamps and their delivery attempts (`attempt_log`)."""
    for n in notifications:
        n["created_at"] = iso(n["created_at"])
        n["updated_at"] = iso(n["updated_at"])
        n["attempt_log"] = attempts_of(tx, n["id"])
    return notifications


def attempts_of(tx: Tx, notification_id: int) -> list[dict[str, Any]]:
    """Delivery attempts of one notification, oldest first."""
    rows = tx.all(
        "SELECT attempt, started_at, duration, outcome, status, error, retry_after, response"
        " FROM attempts WHERE notification_id = ? ORDER BY id",
        (notification_id,),
    )
    for r in rows:
        r["started_at"] = iso(r["started_at"])
    return rows


async def get_list(request: web.Request) -> web.Response:
    require(request, "viewer")
    states, severities, matchers, limit = _filters(request)
    items = await app_state(request).store.read(
        lambda tx: list_incidents(tx, states, severities, matchers, limit)
    )
    return web.json_response({"incidents": items, "count": len(items)})


async def get_one(request: web.Request) -> web.Response:
    require(request, "viewer")
    incident_id = int_param(request, "id")
    doc = await app_state(request).store.read(lambda tx: incident_detail(tx, incident_id))
    if doc is None:
        raise JSONHTTPError(404, f"incident {incident_id} not found", field="id")
    return web.json_response(doc)


def _action(name: str) -> Any:
    fn = {"ack": actions.ack, "unack": actions.unack, "resolve": actions.manual_resolve}[name]

    async def handler(request: web.Request) -> web.Response:
        actor = require(request, "operator")
        incident_id = int_param(request, "id")
        comment = comment_of(await json_body(request))
        ctx = app_state(request).ctx
        await act(request, lambda tx, now: fn(tx, ctx, incident_id, actor, comment, now))
        doc = await app_state(request).store.read(lambda tx: incident_snapshot(tx, incident_id))
        return web.json_response(doc)

    return handler


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/incidents", get_list)
    app.router.add_get("/api/v1/incidents/{id}", get_one)
    for name in ("ack", "unack", "resolve"):
        app.router.add_post(f"/api/v1/incidents/{{id}}/{name}", _action(name))
