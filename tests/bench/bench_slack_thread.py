"""One message per incident and Slack buttons, against the plain webhook path of the same
receiver process in the same run.

Three ratios, each a median over ROUNDS sequential incidents (one at a time, so each
figure is latency, not throughput):
- first notification: webhook POST → Slack `chat.postMessage` at the local Slack API,
  against webhook POST → the same incident's notification at a webhook sink;
- ack announcement: ack request sent → Slack `chat.update` (the stored reference read,
  the message edited, then its thread reply), against → the webhook sink's
  `acknowledged` notification;
- the ack itself: a signed Slack button click answered, against an API ack answered.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from tests.integration.receiver_harness import ReceiverProcess, Sink, am_alert, am_payload
from tests.integration.slack_signing import button_payload, post_interaction, signed
from tests.sinks.base import Recorded
from tests.sinks.slack import SlackSink

ROUNDS = 30
TOKEN = "bench-admin-token"
BOT = "xoxb-bench"
SIGNING = "bench-signing-secret"


def _config(slack: SlackSink, hook: Sink) -> dict[str, Any]:
    return {
        "channels": [
            {
                "name": "bot",
                "type": "slack",
                "token": BOT,
                "channel": "C0B",
                "base_url": f"{slack.url}/api/",
                "signing_secret": SIGNING,
            },
            {"name": "hook", "type": "webhook", "url": hook.url},
        ],
        "default_route": {"channels": ["bot", "hook"]},
        "auth": {"tokens": [{"name": "bench", "roles": ["admin", "ingest"], "token": TOKEN}]},
    }


async def _until(check: Callable[[], bool]) -> None:
    """Return once `check` holds (polled every millisecond; fails after 30 s)."""
    deadline = time.monotonic() + 30
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.001)


class _Clock:
    """One instant on both clocks the sinks stamp arrivals with (the Slack sink's
    time.monotonic, the webhook sink's time.perf_counter)."""

    def __init__(self) -> None:
        self.mono, self.perf = time.monotonic(), time.perf_counter()


async def _round(
    n: int, receiver: ReceiverProcess, slack: SlackSink, hook: Sink, s: aiohttp.ClientSession
) -> tuple[float, float, float, float, float, float]:
    seen = len(slack.requests)

    def new_post() -> list[Recorded]:
        """Top-level posts since `seen` (the last round's thread reply may land late)."""
        return [
            r
            for r in slack.requests[seen:]
            if r.path == "/api/chat.postMessage" and "thread_ts" not in r.json
        ]

    fired, acked = len(hook.of_kind("firing")), len(hook.of_kind("acknowledged"))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    start = _Clock()
    payload = am_payload(f"g{n}", [am_alert(f"f{n}")])
    async with s.post(receiver.url + "/webhook/alertmanager", json=payload, headers=headers) as r:
        assert r.status == 200
    await _until(lambda: bool(new_post()))
    await _until(lambda: len(hook.of_kind("firing")) > fired)
    slack_first = new_post()[0].at - start.mono
    hook_first = hook.of_kind("firing")[fired].at_perf - start.perf
    incident = await receiver.incident_id(f"g{n}", TOKEN)
    # Odd rounds ack by a signed button click, even ones through the API; both timed.
    before = len(slack.requests)
    ack_start = _Clock()
    if n % 2:
        body, sig = signed(SIGNING, button_payload("tocsin_ack", incident))
        status, _ = await post_interaction(receiver.url, body, sig)
    else:
        url = f"{receiver.url}/api/v1/incidents/{incident}/ack"
        async with s.post(url, json={}, headers=headers) as r:
            status = r.status
    answered = _Clock()
    assert status == 200
    await _until(lambda: any(r.path == "/api/chat.update" for r in slack.requests[before:]))
    await _until(lambda: len(hook.of_kind("acknowledged")) > acked)
    update = next(r for r in slack.requests[before:] if r.path == "/api/chat.update")
    # From the ack request: the announcement may be out before the answer is read.
    slack_ack = update.at - ack_start.mono
    hook_ack = hook.of_kind("acknowledged")[acked].at_perf - ack_start.perf
    took = answered.perf - ack_start.perf
    click, api = (took, float("nan")) if n % 2 else (float("nan"), took)
    return slack_first, hook_first, slack_ack, hook_ack, click, api


async def _run() -> None:
    hook = await Sink().start()
    async with SlackSink(token=BOT) as slack_sink:
        slack: SlackSink = slack_sink  # type: ignore[assignment]
        with tempfile.TemporaryDirectory() as tmp:
            receiver = await ReceiverProcess(Path(tmp), _config(slack, hook)).start()
            try:
                async with aiohttp.ClientSession() as s:
                    await _round(0, receiver, slack, hook, s)  # warm-up
                    rows = [await _round(n, receiver, slack, hook, s) for n in range(1, ROUNDS + 1)]
            finally:
                receiver.stop()
                await hook.stop()
    cols = list(zip(*rows, strict=True))

    def med(i: int) -> float:
        return float(statistics.median(v for v in cols[i] if v == v))

    names = [
        ("first notification", 0, 1, "webhook sink"),
        ("ack announcement", 2, 3, "webhook sink"),
        ("ack answered", 4, 5, "API ack"),
    ]
    for label, mine, ref, ref_name in names:
        print(
            f"{label:20s} slack {med(mine) * 1e3:7.2f} ms   {ref_name} {med(ref) * 1e3:7.2f} ms"
            f"   ratio {med(mine) / med(ref):.2f}x"
        )


def main() -> int:
    asyncio.run(_run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
