"""Slack: incoming webhooks (`/services/...`) and the Web API's `chat.postMessage` and
`chat.update`.

Answers as Slack documents: a webhook returns `ok` (text) or an error word with 400/403/404;
the Web API returns `{"ok": true, ...}` or `{"ok": false, "error": ...}`. Messages breaking
Slack's block limits are refused like Slack does (`invalid_blocks`). Posted messages are
kept by (channel, ts): `chat.update` of one it never posted is `message_not_found`, and a
reply's `thread_ts` must name a posted message (`thread_not_found`).
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
        # (channel, ts) -> the message as last posted or updated.
        self.posted: dict[tuple[str, str], dict[str, Any]] = {}
        super().__init__()

    def routes(self) -> None:
        self.app.router.add_post("/services/{rest:.*}", self.webhook)
        self.app.router.add_post("/api/chat.postMessage", self.post_message)
        self.app.router.add_post("/api/chat.update", self.update_message)

    def calls(self, method: str) -> list[dict[str, Any]]:
        """The JSON bodies of every Web API call of `method` (e.g. `chat.update`), in order."""
        return [r.json for r in self.requests if r.path == f"/api/{method}"]

    def _refusal(self, message: Any, headers: dict[str, str]) -> dict[str, Any] | None:
        """Slack's error answer for a Web API call, or None when it is acceptable."""
        if headers.get("Authorization") != f"Bearer {self.token}":
            return {"ok": False, "error": "invalid_auth"}
        if not isinstance(message, dict) or not message.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if block_problems(message):
            return {"ok": False, "error": "invalid_blocks"}
        return None

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
        message = recorded.json
        refusal = self._refusal(message, recorded.headers)
        if refusal is not None:
            return web.json_response(refusal)
        thread = message.get("thread_ts")
        if thread is not None and (message["channel"], thread) not in self.posted:
            return web.json_response({"ok": False, "error": "thread_not_found"})
        ts = f"1700000000.{len(self.requests):06d}"
        self.posted[(message["channel"], ts)] = message
        return web.json_response(
            {"ok": True, "channel": message["channel"], "ts": ts, "message": {"text": "x"}}
        )

    async def update_message(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        scripted = self.scripted()
        if scripted is not None:
            return scripted
        message = recorded.json
        refusal = self._refusal(message, recorded.headers)
        if refusal is not None:
            return web.json_response(refusal)
        key = (message["channel"], str(message.get("ts")))
        if key not in self.posted:
            return web.json_response({"ok": False, "error": "message_not_found"})
        self.posted[key] = {**self.posted[key], **message}
        return web.json_response(
            {"ok": True, "channel": key[0], "ts": key[1], "text": message.get("text", "")}
        )
