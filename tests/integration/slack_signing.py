"""Slack's interactivity requests as Slack sends them: a form-encoded `payload`, signed
with the app's signing secret by slack_sdk's own SignatureVerifier."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

PATH = "/api/v1/slack/interactions"


def button_payload(action_id: str, incident_id: int, user: str = "alice") -> dict[str, Any]:
    """A `block_actions` payload for one click on a bot message's button."""
    return {
        "type": "block_actions",
        "user": {"id": "U0ALICE", "username": user, "name": user, "team_id": "T000"},
        "channel": {"id": "C0123", "name": "ops"},
        "container": {"type": "message", "message_ts": "1700000000.000001"},
        "actions": [
            {
                "type": "button",
                "block_id": "tocsin_actions",
                "action_id": action_id,
                "value": str(incident_id),
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def signed(
    secret: str, payload: dict[str, Any], at: float | None = None
) -> tuple[bytes, dict[str, str]]:
    """The request body and Slack's headers, signed for time `at` (default now)."""
    body = urlencode({"payload": json.dumps(payload)}).encode()
    timestamp = str(int(time.time() if at is None else at))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None
    return body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }


async def post_interaction(
    url: str, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    """POST it to the receiver at `url`; the status and JSON answer."""
    async with aiohttp.ClientSession() as s, s.post(url + PATH, data=body, headers=headers) as r:
        doc: dict[str, Any] = await r.json(content_type=None)
        return r.status, doc
