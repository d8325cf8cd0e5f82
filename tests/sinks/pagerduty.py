"""PagerDuty Events API v2 (`POST /v2/enqueue`) with incident state per dedup_key.

Validates events as PagerDuty documents (routing_key of 32 characters, event_action,
payload.summary ≤ 1024, payload.severity, dedup_key ≤ 255, body ≤ 512 KB) and answers
202 `{"status": "success", "dedup_key": ...}` or 400 `{"status": "invalid event", ...}`.
Must be served over HTTPS: the `pagerduty` client refuses plain-http base URLs.
"""

from __future__ import annotations

import ssl
import uuid
from typing import Any

from aiohttp import web

from tests.sinks.base import Sink

SEVERITIES = {"critical", "error", "warning", "info"}
_STATE = {"trigger": "triggered", "acknowledge": "acknowledged", "resolve": "resolved"}


def event_problems(event: Any, size: int) -> list[str]:
    """Why PagerDuty would refuse this event (empty when valid)."""
    problems: list[str] = []
    if size > 512 * 1024:
        problems.append("event larger than 512 KB")
    if not isinstance(event, dict):
        return ["body is not an object"]
    if len(str(event.get("routing_key", ""))) != 32:
        problems.append("'routing_key' must be 32 characters")
    action = event.get("event_action")
    if action not in _STATE:
        problems.append("'event_action' is invalid")
    dedup_key = event.get("dedup_key")
    if dedup_key is not None and len(str(dedup_key)) > 255:
        problems.append("'dedup_key' is longer than 255 characters")
    if action != "trigger" and not dedup_key:
        problems.append("'dedup_key' is required for this event_action")
    if action == "trigger":
        payload = event.get("payload") or {}
        summary = str(payload.get("summary", ""))
        if not summary or len(summary) > 1024:
            problems.append("'payload.summary' must be 1-1024 characters")
        if not payload.get("source"):
            problems.append("'payload.source' is missing")
        if payload.get("severity") not in SEVERITIES:
            problems.append("'payload.severity' is invalid")
    return problems


class PagerDutySink(Sink):
    """Keeps `incidents`: dedup_key → state, and every accepted event in `events`."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self.incidents: dict[str, str] = {}
        self.events: list[dict[str, Any]] = []
        super().__init__(ssl_context)

    def routes(self) -> None:
        self.app.router.add_post("/v2/enqueue", self.enqueue)

    async def enqueue(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        scripted = self.scripted()
        if scripted is not None:
            return scripted
        try:
            event = recorded.json
        except ValueError:
            return web.json_response(
                {"status": "invalid event", "message": "Event object is invalid"}, status=400
            )
        problems = event_problems(event, len(recorded.body))
        if problems:
            return web.json_response(
                {
                    "status": "invalid event",
                    "message": "Event object is invalid",
                    "errors": problems,
                },
                status=400,
            )
        dedup_key = str(event.get("dedup_key") or uuid.uuid4().hex)
        action = event["event_action"]
        current = self.incidents.get(dedup_key)
        # Like PagerDuty: acknowledge/resolve of an unknown or resolved key is accepted but
        # does nothing, and a trigger on a resolved key opens a new incident.
        if action == "trigger" or current in ("triggered", "acknowledged"):
            self.incidents[dedup_key] = _STATE[action]
        self.events.append(event)
        return web.json_response(
            {"status": "success", "message": "Event processed", "dedup_key": dedup_key},
            status=202,
        )
