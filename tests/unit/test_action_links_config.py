"""The `action_links` and `twilio_inbound` keys: read like every other section (`key`,
`key_file`, `${ENV}`), every problem named, the signer they make, and the built-in
templates' link lines."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from receiver.actionlinks.from_config import link_signer, page_url, reply_channels
from receiver.actionlinks.signing import LinkRefused, LinkSigner
from receiver.commands.config_file import load_config
from receiver.templates import TemplateRenderer
from receiver.templates.context import build_context
from servicekit.problems import ConfigError
from tests.sinks.notifications import notification

KEY = "s" * 32
SMS = """
  - name: sms
    type: twilio
    account_sid: AC00000000000000000000000000000000
    auth_token: t
    to: ["+15550000001", "+15550000002"]
    from_number: "+15559990000"
"""


def _problems(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "receiver.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    return {p.key: p.message for p in err.value.problems}


def test_problems_are_named(tmp_path: Path) -> None:
    found = _problems(
        tmp_path,
        """
action_links: {key: short, ttl: 0s, base_url: "ftp://x"}
twilio_inbound: {channel: log, url: "mailto:x"}
""",
    )
    assert found == {
        "action_links.key": "expected at least 32 bytes",
        "action_links.ttl": found["action_links.ttl"],
        "action_links.base_url": "expected an http(s) URL",
        "twilio_inbound.url": "expected an http(s) URL",
        "twilio_inbound.channel": "channel 'log' is not a twilio channel",
    }
    assert "greater than 0" in found["action_links.ttl"], found
    found = _problems(
        tmp_path,
        f"action_links: {{key: {KEY}}}\ntwilio_inbound: {{channel: log}}\n",
    )
    assert found == {
        "action_links.base_url": (
            "expected the incidents page's URL (or set web.external_url) for the links"
        ),
        "twilio_inbound.channel": "channel 'log' is not a twilio channel",
    }
    assert _problems(tmp_path, "twilio_inbound: {channel: nope}\n") == {
        "twilio_inbound.channel": "no channel named 'nope'"
    }


def test_key_from_the_environment_signs_links_that_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOCSIN_LINK_KEY", KEY)
    path = tmp_path / "receiver.yml"
    path.write_text(
        "web: {external_url: 'https://tocsin.example/ops/'}\n"
        "action_links: {key: '${TOCSIN_LINK_KEY}', ttl: 2h}\n"
        f"twilio_inbound: {{channel: sms}}\nchannels:{SMS}"
    )
    cfg = load_config(path)
    assert page_url(cfg) == "https://tocsin.example/ops"
    assert reply_channels(cfg) == frozenset({"sms"})
    signer = link_signer(cfg)
    assert signer is not None
    now = time.time()
    links = signer.links({"id": 7, "kind": "firing", "channel": "sms"}, now)
    assert set(links) == {"ack", "resolve", "open"}
    assert links["open"] == "https://tocsin.example/ops/incidents/7"
    token = links["ack"].split("?t=")[1]
    claims = signer.verify(token, 7, now)
    assert (claims.incident, claims.action, claims.channel) == (7, "ack", "sms")
    assert claims.recipient == "+15550000001, +15550000002"
    assert 2 * 3600 - 5 <= claims.expires - now <= 2 * 3600
    with pytest.raises(LinkRefused) as err:
        signer.verify(token, 7, claims.expires)
    assert err.value.status == 410
    # Every link is different, so each can be used once.
    again = signer.links({"id": 7, "kind": "firing", "channel": "sms"}, now)["ack"]
    assert again != links["ack"]


def test_which_messages_carry_links(tmp_path: Path) -> None:
    path = tmp_path / "receiver.yml"
    path.write_text(f"web: {{external_url: 'https://t.example'}}\naction_links: {{key: {KEY}}}\n")
    signer = link_signer(load_config(path))
    assert signer is not None
    now = time.time()
    for kind in ("firing", "escalation", "repeat"):
        assert set(signer.links({"id": 1, "kind": kind, "channel": "log"}, now)) == {
            "ack", "resolve", "open"
        }  # fmt: skip
    assert set(signer.links({"id": 1, "kind": "acknowledged", "channel": "log"}, now)) == {
        "resolve", "open"
    }  # fmt: skip
    for kind in ("resolved", "digest", "test"):
        assert signer.links({"id": 1, "kind": kind, "channel": "log"}, now) == {}
    assert signer.links({"id": "", "kind": "firing", "channel": "log"}, now) == {}


def test_no_key_means_no_signer(tmp_path: Path) -> None:
    path = tmp_path / "receiver.yml"
    path.write_text("web: {external_url: 'https://t.example'}\n")
    assert link_signer(load_config(path)) is None


PARTS = [
    ("email", "body.txt"),
    ("email", "body.html"),
    ("slack", "text.txt"),
    ("teams", "text.txt"),
    ("discord", "description.txt"),
    ("twilio", "body.txt"),
]


@pytest.mark.parametrize(("channel_type", "part"), PARTS)
def test_every_built_in_message_carries_its_links(channel_type: str, part: str) -> None:
    signer = LinkSigner(KEY.encode(), 3600, "https://t.example", {})
    renderer = TemplateRenderer(links=signer)
    plain = TemplateRenderer()
    firing = build_context(notification(kind="firing", channel="c"), "c")
    text = renderer.render(channel_type, "firing", part, firing)
    assert text.count("https://t.example/act/1?t=") == (1 if channel_type == "twilio" else 2)
    if channel_type != "twilio":
        assert "https://t.example/incidents/1" in text
    assert "/act/" not in plain.render(channel_type, "firing", part, firing)
    acked = build_context(notification(kind="acknowledged", channel="c"), "c")
    text = renderer.render(channel_type, "acknowledged", part, acked)
    # Nothing left to acknowledge: only the resolve link (none in the SMS short form).
    assert text.count("/act/1?t=") == (0 if channel_type == "twilio" else 1)
    resolved = build_context(notification(kind="resolved", channel="c"), "c")
    assert "/act/" not in renderer.render(channel_type, "resolved", part, resolved)


def test_sms_short_form_asks_for_a_reply_when_replies_are_on() -> None:
    signer = LinkSigner(KEY.encode(), 3600, "https://t.example", {})
    renderer = TemplateRenderer(links=signer, sms_replies=frozenset({"c"}))
    text = renderer.render("twilio", "firing", "body.txt", build_context(notification(), "c"))
    assert text.endswith("Reply ACK 1 or RESOLVE 1") and "/act/" not in text
