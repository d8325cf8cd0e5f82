"""check-config reports every problem of a channel section at once: a key with a type
error does not hide the section's other problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.receiver_harness import write_config
from tests.procs import run_module

pytestmark = pytest.mark.integration

# Each channel has one key of the wrong type (first) and problems in other keys.
CHANNELS = [
    {
        "name": "slack",
        "type": "slack",
        "timeout": "soon",
        "webhook_url": "ftp://hooks.example/x",
        "base_url": "gopher://slack.example/",
    },
    {
        "name": "sms",
        "type": "twilio",
        "account_sid": 5,
        "auth_token": "token-value",
        "to": ["123"],
        "base_url": "ftp://api.example",
    },
    {
        "name": "mail",
        "type": "email",
        "port": "smtp",
        "host": "mx.example",
        "sender": "not-an-address",
        "to": [],
        "username": "u",
    },
    {
        "name": "pd",
        "type": "pagerduty",
        "timeout": [1],
        "routing_key": "short",
        "base_url": "http://events.example",
        "default_severity": "loud",
    },
    {
        "name": "discord",
        "type": "discord",
        "timeout": True,
        "webhook_url": "discord.example/api/webhooks/1/x",
        "username": "",
    },
    {"name": "teams", "type": "teams", "timeout": "x", "webhook_url": "teams.example/x"},
]

EXPECTED = [
    "channels[0].timeout: expected a duration",
    "channels[0].webhook_url: expected an http(s) URL",
    "channels[0].base_url: expected an http(s) URL",
    "channels[1].account_sid: expected a string",
    "channels[1].to[0]: expected an E.164 number",
    "channels[1]: set exactly one of from_number or messaging_service_sid",
    "channels[1].base_url: expected an http(s) URL",
    "channels[2].port: expected an integer",
    "channels[2].sender: expected an email address",
    "channels[2].to: expected at least one address",
    "channels[2]: set both username and password",
    "channels[3].timeout: expected a duration",
    "channels[3].routing_key: expected a 32-character",
    "channels[3].base_url: expected an https:// URL",
    "channels[3].default_severity: expected one of",
    "channels[4].timeout: expected a duration",
    "channels[4].webhook_url: expected an http(s) URL",
    "channels[4].username: expected 1 to 80 characters",
    "channels[5].timeout: expected a duration",
    "channels[5].webhook_url: expected an http(s) URL",
]


def test_every_problem_of_a_channel_with_a_type_error(tmp_path: Path) -> None:
    config = write_config(tmp_path / "receiver.yml", {"channels": CHANNELS})
    out = run_module("receiver", "check-config", str(config))
    assert out.returncode == 3, out
    lines = out.stderr.splitlines()
    missing = [e for e in EXPECTED if not any(e in line for line in lines)]
    assert not missing, out.stderr
    assert f"{len(EXPECTED)} problem(s) found" in out.stderr, out.stderr
    assert "token-value" not in out.stderr
