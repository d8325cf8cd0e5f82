"""Discord webhooks: `POST /api/webhooks/{id}/{token}` validated against every Discord limit.

Invalid messages get Discord's 400 `{"code": 50035, "message": "Invalid Form Body"}`;
`?wait=true` returns 200 with the message, otherwise 204. Messages posted with
`?wait=true` can be edited with `PATCH /api/webhooks/{id}/{token}/messages/{message_id}`
(200 with the message); another id is Discord's 404 `Unknown Message` (code 10008).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.sinks.base import Reply, Sink

LIMITS = {
    "content": 2000,
    "embeds": 10,
    "title": 256,
    "description": 4096,
    "fields": 25,
    "field_name": 256,
    "field_value": 1024,
    "footer": 2048,
    "author": 256,
    "total": 6000,
}


def message_problems(message: Any) -> list[str]:
    """Every Discord limit this webhook message breaks (empty when valid)."""
    if not isinstance(message, dict):
        return ["body is not an object"]
    problems: list[str] = []
    content = str(message.get("content") or "")
    embeds = list(message.get("embeds") or [])
    if not content and not embeds:
        problems.append("Cannot send an empty message")
    if len(content) > LIMITS["content"]:
        problems.append("content too long")
    if len(embeds) > LIMITS["embeds"]:
        problems.append("too many embeds")
    total = 0
    for embed in embeds:
        title = str(embed.get("title") or "")
        description = str(embed.get("description") or "")
        footer = str((embed.get("footer") or {}).get("text") or "")
        author = str((embed.get("author") or {}).get("name") or "")
        fields = list(embed.get("fields") or [])
        if len(title) > LIMITS["title"]:
            problems.append("embed title too long")
        if len(description) > LIMITS["description"]:
            problems.append("embed description too long")
        if len(footer) > LIMITS["footer"]:
            problems.append("embed footer too long")
        if len(author) > LIMITS["author"]:
            problems.append("embed author too long")
        if len(fields) > LIMITS["fields"]:
            problems.append("too many embed fields")
        total += len(title) + len(description) + len(footer) + len(author)
        for f in fields:
            if len(str(f.get("name", ""))) > LIMITS["field_name"]:
                problems.append("field name too long")
            if len(str(f.get("value", ""))) > LIMITS["field_value"]:
                problems.append("field value too long")
            total += len(str(f.get("name", ""))) + len(str(f.get("value", "")))
    if total > LIMITS["total"]:
        problems.append(f"embeds total {total} > {LIMITS['total']}")
    return problems


def rate_limited(retry_after: float) -> Reply:
    """Discord's 429: JSON `retry_after` (seconds) plus the Retry-After header."""
    return Reply(
        429,
        {"message": "You are being rate limited.", "retry_after": retry_after, "global": False},
        {"Retry-After": str(int(retry_after + 0.999))},
    )


_INVALID_JSON = {"code": 50109, "message": "The request body contains invalid JSON."}


_UNKNOWN_MESSAGE = {"code": 10008, "message": "Unknown Message"}


class DiscordSink(Sink):
    def routes(self) -> None:
        # message id -> the message as last posted or edited.
        self.posted: dict[str, dict[str, Any]] = {}
        self.edited: list[tuple[str, dict[str, Any]]] = []
        self.app.router.add_post("/api/webhooks/{id}/{token}", self.execute)
        self.app.router.add_patch("/api/webhooks/{id}/{token}/messages/{message_id}", self.edit)

    def edits(self) -> list[tuple[str, dict[str, Any]]]:
        """(message id, JSON body) of every edit applied (not refused), in order."""
        return list(self.edited)

    async def edit(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        scripted = self.scripted()
        if scripted is not None:
            return scripted
        message_id = request.match_info["message_id"]
        if message_id not in self.posted:
            return web.json_response(_UNKNOWN_MESSAGE, status=404)
        try:
            message = recorded.json
        except ValueError:
            return web.json_response(_INVALID_JSON, status=400)
        problems = message_problems(message)
        if problems:
            return web.json_response(
                {"code": 50035, "message": "Invalid Form Body", "errors": problems}, status=400
            )
        self.posted[message_id] = message
        self.edited.append((message_id, message))
        return web.json_response({"id": message_id, "content": message.get("content")})

    async def execute(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        scripted = self.scripted()
        if scripted is not None:
            return scripted
        try:
            message = recorded.json
        except ValueError:
            return web.json_response(_INVALID_JSON, status=400)
        problems = message_problems(message)
        if problems:
            return web.json_response(
                {"code": 50035, "message": "Invalid Form Body", "errors": problems}, status=400
            )
        if request.query.get("wait") == "true":
            message_id = str(len(self.requests))
            self.posted[message_id] = message
            return web.json_response({"id": message_id, "content": message.get("content")})
        return web.Response(status=204)
