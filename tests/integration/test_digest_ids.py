"""A digest carries the ids of its incidents (footer and every entry), and `render --kind
digest` previews exactly what a real digest sends: the same entry text, the same footer,
no links a real digest does not have."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.integration.receiver_harness import (
    ReceiverProcess,
    am_alert,
    am_payload,
    post_webhook,
    wait_for,
    write_config,
)
from tests.procs import run_module
from tests.sinks.slack import SlackSink

pytestmark = pytest.mark.integration
FOOTER = re.compile(r"^digest of incidents? (\d+(?:, \d+)*) · \S+$")


def _payload(group: str) -> dict[str, Any]:
    return am_payload(
        group, [am_alert(group, severity="warning")], common={"group": group, "severity": "warning"}
    )


def _parts(message: dict[str, Any]) -> tuple[list[str], str]:
    """A Slack message's paragraphs (sections hold several) and its footer (context) text."""
    blocks = message["attachments"][0]["blocks"]
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    [footer] = [b["elements"][0]["text"] for b in blocks if b["type"] == "context"]
    return [p for text in sections for p in text.split("\n\n")], footer


async def test_digest_ids_and_render_preview_match(tmp_path: Path) -> None:
    async with SlackSink() as sink:
        channel = {"name": "s", "type": "slack", "webhook_url": f"{sink.url}/services/T/B/x"}
        cfg = {
            "channels": [channel],
            "default_route": {"channels": ["s"]},
            "storm": {"threshold": 2, "window": "1m", "digest_interval": "500ms"},
        }
        receiver = await ReceiverProcess(tmp_path, cfg).start()
        groups = ["calm0", "calm1", "storm0", "storm1", "storm2"]
        try:
            async with aiohttp.ClientSession() as s:
                for group in groups:
                    status, _ = await post_webhook(s, receiver.url, _payload(group))
                    assert status == 200
                    # Processed before the next is posted: on PostgreSQL webhooks of other
                    # groups are processed side by side (lanes), so which incidents open
                    # the storm would otherwise depend on timing, not on this order.
                    await receiver.incident_id(group)

            def digests() -> list[dict[str, Any]]:
                return [r.json for r in sink.requests if r.json["text"].startswith("[DIGEST]")]

            def folded_ids() -> set[str]:
                ids: set[str] = set()
                for message in digests():
                    ids.update(FOOTER.match(_parts(message)[1]).group(1).split(", "))  # type: ignore[union-attr]
                return ids

            await wait_for(lambda: len(folded_ids()) == 3, 30, what="three incidents digested")
            ids = {g: str(await receiver.incident_id(g)) for g in groups}
        finally:
            receiver.stop()
    assert folded_ids() == {ids["storm0"], ids["storm1"], ids["storm2"]}
    entries = [text for message in digests() for text in _parts(message)[0]]
    for group in ("storm0", "storm1", "storm2"):
        [entry] = [e for e in entries if f"alert {group}" in e]
        assert entry.startswith(f"#{ids[group]} "), entry

    # The preview of the same payload, through the same channel config.
    (tmp_path / "p.json").write_text(json.dumps(_payload("storm0")))
    config = write_config(tmp_path / "render.yml", {"channels": [channel]})
    out = run_module(
        "receiver",
        "render",
        "--channel",
        "s",
        "--kind",
        "digest",
        "--payload",
        str(tmp_path / "p.json"),
        "--config.file",
        str(config),
    )
    assert out.returncode == 0, out.stderr
    [preview_entry], preview_footer = _parts(json.loads(out.stdout))
    [real_entry] = [e for e in entries if "alert storm0" in e]
    assert re.sub(r"^#\d+", "#ID", preview_entry) == re.sub(r"^#\d+", "#ID", real_entry)
    assert FOOTER.match(preview_footer), preview_footer
    assert "Alertmanager" not in out.stdout and "Silence" not in out.stdout
