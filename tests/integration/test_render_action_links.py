"""`tocsin-receiver render` (a real `python -m receiver` process) previews the action
links and the SMS reply line that sent messages carry when they are configured."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from receiver.actionlinks.signing import LinkSigner

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
KEY = "render-preview-link-key-" + "k" * 32
BASE = "https://alerts.example.com/tocsin"
TOKEN = "twilio-token-not-in-previews"
SMS = {
    "type": "twilio",
    "account_sid": "AC" + "0" * 32,
    "auth_token": TOKEN,
    "from_number": "+15550000001",
    "to": ["+15550000002"],
}
MAIL = {"type": "email", "host": "127.0.0.1", "sender": "a@example.com", "to": ["o@example.com"]}


def _render(tmp_path: Path, channel: str, links: bool) -> str:
    doc: dict[str, object] = {
        "channels": [{"name": "sms", **SMS}, {"name": "mail", **MAIL}],
        "default_route": {"channels": ["mail"]},
    }
    if links:
        doc["action_links"] = {"key": KEY, "base_url": BASE}
        doc["twilio_inbound"] = {"channel": "sms"}
    config = tmp_path / f"tocsin-{links}.yml"
    config.write_text(yaml.safe_dump(doc))
    command = ["render", "--channel", channel, "--config.file", str(config)]
    done = subprocess.run(
        [sys.executable, "-m", "receiver", *command],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert KEY not in done.stdout + done.stderr and TOKEN not in done.stdout
    return done.stdout


def test_email_preview_carries_links_that_verify_with_the_key(tmp_path: Path) -> None:
    out = _render(tmp_path, "mail", links=True)
    urls = set(re.findall(re.escape(BASE) + r"/act/42\?t=[A-Za-z0-9_.-]+", out))
    assert urls, out
    signer = LinkSigner(KEY.encode(), 86400, BASE, {})
    actions = {signer.verify(u.split("t=", 1)[1], 42, time.time()).action for u in urls}
    assert actions == {"ack", "resolve"}, urls
    assert "/act/" not in _render(tmp_path, "mail", links=False)


def test_sms_preview_shows_the_reply_line_with_replies_on(tmp_path: Path) -> None:
    assert "Reply ACK 42 or RESOLVE 42" in _render(tmp_path, "sms", links=True)
    plain = _render(tmp_path, "sms", links=False)
    assert "Reply ACK" not in plain and "/act/" not in plain
