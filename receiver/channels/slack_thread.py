"""A Slack bot channel's one message per incident: post it, then edit it and reply in
its thread.

The first notification of an incident is posted with `chat.postMessage`; the answer's
channel id and `ts` become the message reference the outbox stores. Every later one
rewrites that message with `chat.update` (its header, colour and buttons show the
incident's current state) and posts the notification itself as a reply in the
message's thread (`thread_ts`), so the channel keeps one line per incident and the
history sits under it. A message Slack no longer has is posted again.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from receiver.channels.base import SendResult
from receiver.channels.http_outcome import parse_retry_after

# Slack API errors worth retrying; every other `error` code is a configuration problem.
_RETRYABLE_ERRORS = {
    "ratelimited",
    "rate_limited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}
# chat.update errors meaning the stored message cannot be edited any more: post anew.
_GONE = {"message_not_found", "cant_update_message", "edit_window_closed", "channel_not_found"}
# What chat.update takes of a posted message (it has no username or icon).
_UPDATE_FIELDS = ("text", "blocks", "attachments")


def api_error(exc: SlackApiError, method: str) -> SendResult:
    """A Web API error as the outbox's retryable or permanent result."""
    status = exc.response.status_code
    error = error_code(exc)
    headers = exc.response.headers or {}
    retry_after = parse_retry_after(headers.get("Retry-After") or headers.get("retry-after"))
    text = f"slack: {method} failed (HTTP {status}): {error or 'no error code'}"
    if status == 429 or status >= 500 or error in _RETRYABLE_ERRORS:
        return SendResult.retryable(text, retry_after=retry_after, status=str(status))
    return SendResult.permanent(text, status=str(status))


def error_code(exc: SlackApiError) -> str:
    """Slack's `error` word from a failed call, or empty."""
    data = exc.response.data
    return str(data.get("error") or "") if isinstance(data, dict) else ""


def parse_ref(ref: str | None) -> tuple[str, str] | None:
    """(channel id, ts) from a stored reference; None when absent or unreadable."""
    if not ref:
        return None
    try:
        doc = json.loads(ref)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    channel, ts = doc.get("channel"), doc.get("ts")
    if isinstance(channel, str) and isinstance(ts, str) and channel and ts:
        return channel, ts
    return None


async def post(web: AsyncWebClient, channel: str, message: dict[str, Any]) -> SendResult:
    """Post a new message; its reference comes back for the outbox to store."""
    fields = {k: v for k, v in message.items() if k != "channel"}
    try:
        response = await web.chat_postMessage(channel=channel, **fields)
    except SlackApiError as exc:
        return api_error(exc, "chat.postMessage")
    ts = str(response.get("ts") or "")
    ref = json.dumps({"channel": str(response.get("channel") or channel), "ts": ts})
    return SendResult.delivered(
        status=str(response.status_code), response=f"ts={ts}", message_ref=ref if ts else None
    )


async def update_and_reply(
    web: AsyncWebClient,
    channel: str,
    message: dict[str, Any],
    reply: dict[str, Any],
    ref: str | None,
) -> SendResult:
    """Edit the incident's message to `message` and post `reply` in its thread; with no
    usable reference (or the message gone), post `message` as a new one."""
    where = parse_ref(ref)
    if where is None:
        return await post(web, channel, message)
    channel_id, ts = where
    fields = {k: message[k] for k in _UPDATE_FIELDS if k in message}
    try:
        await web.chat_update(channel=channel_id, ts=ts, **fields)
    except SlackApiError as exc:
        if error_code(exc) in _GONE:
            return await post(web, channel, message)
        return api_error(exc, "chat.update")
    extra = {k: v for k, v in reply.items() if k != "channel"}
    try:
        answer = await web.chat_postMessage(channel=channel_id, thread_ts=ts, **extra)
    except SlackApiError as exc:
        # The edit is repeated on the retry; chat.update of the same content is harmless.
        return api_error(exc, "chat.postMessage")
    return SendResult.delivered(
        status=str(answer.status_code), response=f"updated ts={ts}; reply ts={answer.get('ts')}"
    )
