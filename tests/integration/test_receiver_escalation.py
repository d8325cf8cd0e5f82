"""Escalation with second-scale steps, a restart mid-policy, ack, and resolve."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from tests.integration.receiver_harness import (
    ReceiverProcess,
    Sink,
    am_alert,
    am_payload,
    post_webhook,
    wait_for,
)

pytestmark = pytest.mark.integration


async def test_escalation_restart_ack_and_resolve(tmp_path: Path) -> None:
    sink = await Sink().start()
    cfg = {
        "channels": [
            {"name": n, "type": "webhook", "url": sink.url} for n in ("first", "second", "third")
        ],
        "escalation_policies": [
            {
                "name": "oncall",
                "steps": [
                    {"after": "0s", "channels": ["first"]},
                    {"after": "2s", "channels": ["second"]},
                    {"after": "8s", "channels": ["third"]},
                ],
                "repeat_last_every": "1s",
            }
        ],
        "default_route": {"escalation": "oncall"},
    }
    receiver = await ReceiverProcess(tmp_path, cfg).start()

    def sent(group: str, channel: str, kind: str | None = None) -> int:
        return sum(
            1
            for r in sink.received
            if r.body["channel"] == channel
            and r.body["incident"].get("group_labels", {}).get("group") == group
            # Without a kind: what paged (the ack announcements are counted on their own).
            and (r.body["kind"] == kind if kind else r.body["kind"] != "acknowledged")
        )

    try:
        async with aiohttp.ClientSession() as s:
            ids = {}
            for g in ("acked", "ignored"):
                status, _ = await post_webhook(s, receiver.url, am_payload(g, [am_alert(g)]))
                assert status == 200
                ids[g] = await receiver.incident_id(g)
        created = time.time()
        await wait_for(
            lambda: sent("acked", "first") == 1 and sent("ignored", "first") == 1, 10, what="step 0"
        )

        async def step0_recorded() -> bool:
            # Delivery is at-least-once: a kill between the sink's answer and the commit that
            # records it would rightly re-send step 0, which is not what this test is about.
            for incident in ids.values():
                _, doc = await receiver.api("GET", f"/api/v1/incidents/{incident}")
                if not any(n["state"] == "delivered" for n in doc["notifications"]):
                    return False
            return True

        await wait_for(step0_recorded, 10, what="step 0 recorded as delivered")
        receiver.kill()
        # Step 1 (2 s) comes due while the receiver is down.
        await asyncio.sleep(max(0.0, created + 2.5 - time.time()))
        await receiver.start()
        await wait_for(
            lambda: sent("acked", "second") == 1 and sent("ignored", "second") == 1,
            10,
            what="overdue step 1 fired on start",
        )
        status, doc = await receiver.api(
            "POST", f"/api/v1/incidents/{ids['acked']}/ack", body={"comment": "on it"}
        )
        assert status == 200 and doc["state"] == "acknowledged"
        assert doc["acked_by"] == "anonymous" and doc["ack_comment"] == "on it"
        # The unacknowledged incident reaches step 2 and then repeats it every second.
        await wait_for(lambda: sent("ignored", "third") >= 2, 20, what="step 2 and a repeat")
        assert sent("acked", "third") == 0
        assert sent("acked", "second") == 1 and sent("ignored", "second") == 1
        assert sent("acked", "first") == 1 and sent("ignored", "first") == 1
        # The ack is announced once to each channel the incident had reached.
        assert sent("acked", "first", "acknowledged") == 1
        assert sent("acked", "second", "acknowledged") == 1
        assert sent("acked", "third", "acknowledged") == 0

        async with aiohttp.ClientSession() as s:
            for g in ("acked", "ignored"):
                payload = am_payload(g, [am_alert(g, status="resolved")], status="resolved")
                status, _ = await post_webhook(s, receiver.url, payload)
                assert status == 200
        await wait_for(
            lambda: (
                sent("acked", "first", "resolved") == 1
                and sent("acked", "second", "resolved") == 1
                and sent("ignored", "third", "resolved") == 1
            ),
            10,
            what="resolved to every notified channel",
        )
        third_before = sent("ignored", "third", "escalation")
        await asyncio.sleep(1.5)
        # Resolved stops the repeat; the acked incident never reached `third`.
        assert sent("ignored", "third", "escalation") == third_before
        assert sent("acked", "third") == 0
        status, detail = await receiver.api("GET", f"/api/v1/incidents/{ids['acked']}")
        events = [t["event"] for t in detail["timeline"]]
        assert "acknowledged" in events and "resolved" in events
        status, audit = await receiver.api("GET", "/api/v1/audit")
        assert [a["action"] for a in audit["audit"]] == ["ack"]
    finally:
        receiver.stop()
        await sink.stop()
