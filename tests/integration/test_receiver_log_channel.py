"""The `log` channel logs each notification at the level its severity calls for
(critical → error, warning → warning, info → info, resolved → info), or at a fixed
`level`, and a `severity_levels` entry changes the mapping."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from tests.integration.receiver_harness import (
    ReceiverProcess,
    am_alert,
    am_payload,
    post_webhook,
    wait_for,
)

pytestmark = pytest.mark.integration


def _lines(receiver: ReceiverProcess) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in receiver.log().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "notification"]


async def test_log_level_follows_severity(tmp_path: Path) -> None:
    cfg = {
        "channels": [
            {"name": "log", "type": "log", "severity_levels": {"page": "warning"}},
            {"name": "fixed", "type": "log", "level": "error"},
        ],
        "default_route": {"channels": ["log", "fixed"]},
    }
    receiver = await ReceiverProcess(tmp_path, cfg).start()
    severities = ["critical", "warning", "info", "page", "unheard-of"]
    try:
        async with aiohttp.ClientSession() as s:
            for sev in severities:
                payload = am_payload(
                    sev, [am_alert(sev, severity=sev)], common={"group": sev, "severity": sev}
                )
                status, _ = await post_webhook(s, receiver.url, payload)
                assert status == 200
            await wait_for(lambda: len(_lines(receiver)) == 2 * len(severities), 30)
            resolved = am_payload(
                "critical",
                [am_alert("critical", status="resolved", severity="critical")],
                status="resolved",
                common={"group": "critical", "severity": "critical"},
            )
            status, _ = await post_webhook(s, receiver.url, resolved)
            assert status == 200
            await wait_for(lambda: len(_lines(receiver)) == 2 * len(severities) + 2, 30)
    finally:
        receiver.stop()
    lines = _lines(receiver)
    by_severity = {
        str(line["severity"]): line["level"]
        for line in lines
        if line["channel"] == "log" and line["kind"] == "firing"
    }
    assert by_severity == {
        "critical": "error",
        "warning": "warning",
        "info": "info",
        "page": "warning",
        "unheard-of": "warning",
    }
    [recovered] = [x for x in lines if x["channel"] == "log" and x["kind"] == "resolved"]
    assert recovered["level"] == "info"
    assert {x["level"] for x in lines if x["channel"] == "fixed"} == {"error"}
