"""Slack: incoming webhooks (`/services/...`) and the Web API's `chat.postMessage`.

Answers as Slack documents: a webhook returns `ok` (text) or an error word with 400/403/404;
`chat.postMessage` returns `{"ok": true, ...}` or `{"ok": false, "error": ...}`. Messages
breaking Slack's block limits are refused like Slack does (`invalid_blocks`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.sinks.base import Sink

SECTION_TEXT_LIMIT = 3000
HEADER_TEXT_LIMIT = 150
BLOCK_LIMIT = 50


def block_problems(message: dict[str, Any]) -> list[str]:
    """Everything in a message that breaks Slack's documented block limits."""
    problems: list[str] = []
    blocks = list(message.get("blocks") or [])
    for attachment in message.get("attachments") or []:
        blocks.extend(attachment.get("blocks") or [])
    if len(blocks) > BLOCK_LIMIT:
        problems.append(f"{len(blocks)} blocks > {BLOCK_LIMIT}")
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        limit = HEADER_TEXT_LIMIT if block.get("type") == "header" else SECTION_TEXT_LIMIT
        if len(text) > limit:
            problems.append(f"{block.get('type')} text {len(text)} > {limit}")
        for element in block.get("elements") or []:
            if len(element.get("text", "")) > SECTION_TEXT_LIMIT:
                problems.append("context element too long")
    return problems


class SlackSink(Sink):
    """Webhook path `/services/T000/B000/SECRET`; Web API under `/api/`."""

    def __init__(self, token: str = "xoxb-test-token") -> None:
        self.token = token
        super().__init__()

    def routes(self) -> None:
        self.app.router.add_post("/services/{rest:.*}", self.webhook)
        self.app.router.add_post("/api/chat.postMessage", self.post_message)

    async def webhook(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        scripted = self.scripted()
        if scripted is not None:
            return scripted
        try:
            message = recorded.json
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        if block_problems(message):
            return web.Response(status=400, text="invalid_blocks")
        return web.Response(text="ok")

    async def post_message(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        scripted = self.scripted()
        if scripted is not None:
            return scripted
        if recorded.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        message = recorded.json
        if not message.get("channel"):
            return web.json_response({"ok": False, "error": "channel_not_found"})
        if block_problems(message):
            return web.json_response({"ok": False, "error": "invalid_blocks"})
        ts = f"1700000000.{len(self.requests):06d}"
        return web.json_response(
            {"ok": True, "channel": message["channel"], "ts": ts, "message": {"text": "x"}}
        )
