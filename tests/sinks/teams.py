"""Microsoft Teams Workflows (Power Automate) webhook receiving an Adaptive Card message.

Accepts `{"type": "message", "attachments": [{"contentType":
"application/vnd.microsoft.card.adaptive", "content": {"type": "AdaptiveCard", ...}}]}`
up to 28 KB and answers 202 like the workflow trigger does; larger bodies get 413.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.sinks.base import Sink

SIZE_LIMIT = 28 * 1024


def card_problems(message: Any, size: int) -> list[str]:
    """Why a Teams workflow would not post this message (empty when valid)."""
    problems: list[str] = []
    if size > SIZE_LIMIT:
        problems.append(f"message is {size} bytes > {SIZE_LIMIT}")
    if not isinstance(message, dict) or message.get("type") != "message":
        return [*problems, "type must be 'message'"]
    attachments = message.get("attachments") or []
    if not attachments:
        problems.append("attachments missing")
    for a in attachments:
        if a.get("contentType") != "application/vnd.microsoft.card.adaptive":
            problems.append("contentType must be application/vnd.microsoft.card.adaptive")
        content = a.get("content") or {}
        if content.get("type") != "AdaptiveCard" or not content.get("version"):
            problems.append("content must be an AdaptiveCard with a version")
    return problems


class TeamsSink(Sink):
    def routes(self) -> None:
        self.app.router.add_post("/workflows/{id}/triggers/manual/paths/invoke", self.invoke)

    async def invoke(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        scripted = self.scripted()
        if scripted is not None:
            return scripted
        if len(recorded.body) > SIZE_LIMIT:
            return web.json_response(
                {"error": {"code": "RequestEntityTooLarge", "message": "too large"}}, status=413
            )
        try:
            message = recorded.json
        except ValueError:
            return web.json_response({"error": {"code": "InvalidRequestContent"}}, status=400)
        problems = card_problems(message, len(recorded.body))
        if problems:
            return web.json_response(
                {"error": {"code": "InvalidRequestContent", "message": "; ".join(problems)}},
                status=400,
            )
        return web.Response(status=202)
