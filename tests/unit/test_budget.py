"""Budgets: whole alerts dropped with "+N more", words never cut, no provider limit exceeded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from receiver.channels import discord, email, pagerduty, slack, teams, twilio
from receiver.channels.budget import LIMITS, fit_alerts, json_size
from receiver.templates import TemplateRenderer
from receiver.templates.clip import clip, split_paragraphs
from servicekit.values import Secret
from tests.sinks.discord import message_problems
from tests.sinks.notifications import huge_incident, notification
from tests.sinks.pagerduty import event_problems
from tests.sinks.slack import block_problems
from tests.sinks.teams import card_problems

ROUTING_KEY = "R" * 32


def huge(kind: str = "firing") -> object:
    return notification(kind=kind, incident=huge_incident(500, 10_000))  # type: ignore[arg-type]


def test_clip_stops_at_a_word_boundary() -> None:
    text = "alpha beta gamma delta"
    assert clip(text, 100) == text
    assert clip(text, 12) == "alpha beta…"
    assert len(clip(text, 12)) <= 12
    assert clip("x" * 50, 10) == "x" * 9 + "…"
    assert clip(text, 0) == ""


@given(st.text(min_size=0, max_size=400), st.integers(min_value=1, max_value=300))
def test_clip_never_exceeds_and_keeps_a_prefix(text: str, limit: int) -> None:
    out = clip(text, limit)
    assert len(out) <= limit
    if len(text) <= limit:
        assert out == text
    else:
        assert text.startswith(out[:-1].rstrip())


def test_split_paragraphs_packs_whole_paragraphs() -> None:
    text = "\n\n".join(["a" * 40, "b" * 40, "c" * 40])
    assert split_paragraphs(text, 100) == ["a" * 40 + "\n\n" + "b" * 40, "c" * 40]
    assert all(len(c) <= 30 for c in split_paragraphs("word " * 100, 30))


def test_fit_alerts_finds_the_largest_count_that_fits() -> None:
    calls: list[int] = []

    def build(n: int) -> str:
        calls.append(n)
        return "x" * (n * 10)

    assert fit_alerts(build, 500, lambda s: len(s) <= 1234) == "x" * 1230
    assert len(calls) < 15
    assert fit_alerts(build, 3, lambda s: True) == "x" * 30
    # Even when nothing fits, one alert is shown (the builder clips it).
    assert fit_alerts(build, 5, lambda s: False) == "x" * 10


def _channel(cls: type, config: object) -> object:
    return cls("budget", config, TemplateRenderer())


def test_slack_500_huge_alerts_within_limits() -> None:
    ch = _channel(slack.SlackChannel, slack.SlackConfig(webhook_url=Secret("https://x/y")))
    message = slack.fitted_message(ch, huge())  # type: ignore[arg-type]
    assert block_problems(message) == []
    sections = message["attachments"][0]["blocks"]
    assert len(message["blocks"]) + len(sections) <= LIMITS.slack_blocks
    assert all(len(b["text"]["text"]) <= 3000 for b in sections if b["type"] == "section")
    shown = sum(
        1 for b in sections if b["type"] == "section" and "*HostDiskFull*" in b["text"]["text"]
    )
    assert 1 <= shown < 500
    assert f"+{500 - shown} more alerts not shown" in json.dumps(message)


def test_discord_500_huge_alerts_within_limits() -> None:
    ch = _channel(discord.DiscordChannel, discord.DiscordConfig(webhook_url=Secret("https://x/y")))
    message = discord.fitted_message(ch, huge())  # type: ignore[arg-type]
    assert message_problems(message) == []
    embed = message["embeds"][0]
    assert len(embed["description"]) <= LIMITS.discord_embed_description
    assert discord.embed_total(embed) <= LIMITS.discord_embed_total
    assert "more alerts not shown" in embed["description"]
    assert not embed["description"].endswith("…")


def test_teams_500_huge_alerts_within_limits() -> None:
    ch = _channel(teams.TeamsChannel, teams.TeamsConfig(webhook_url=Secret("https://x/y")))
    message = teams.fitted_message(ch, huge())  # type: ignore[arg-type]
    size = json_size(message)
    assert size <= LIMITS.teams_card_bytes
    assert card_problems(message, size) == []
    assert "more alerts not shown" in json.dumps(message)


def test_sms_500_huge_alerts_within_limits() -> None:
    ch = _channel(
        twilio.TwilioChannel,
        twilio.TwilioConfig(
            account_sid="AC" + "0" * 32,
            auth_token=Secret("t"),
            to=["+15550001"],
            from_number="+15550002",
        ),
    )
    body = twilio.fitted_body(ch, huge())  # type: ignore[arg-type]
    assert len(body) <= LIMITS.sms_body
    assert body.splitlines()[-1].startswith("+") and body.endswith("more")
    assert body.startswith("[FIRING:500] HostDiskFull (critical)")


def test_pagerduty_500_huge_alerts_within_limits() -> None:
    ch = _channel(
        pagerduty.PagerDutyChannel, pagerduty.PagerDutyConfig(routing_key=Secret(ROUTING_KEY))
    )
    n = huge()
    [(action, key, properties)] = ch.plan(n)  # type: ignore[attr-defined]
    event = {"routing_key": ROUTING_KEY, "event_action": action, "dedup_key": key, **properties}
    size = json_size(event)
    assert size <= LIMITS.pagerduty_payload_bytes
    assert event_problems(event, size) == []
    details = properties["payload"]["custom_details"]
    assert 1 <= len(details["alerts"]) < 500
    assert details["more"] == f"+{500 - len(details['alerts'])} more alerts not shown"
    assert len(properties["payload"]["summary"]) <= LIMITS.pagerduty_summary
    assert len(key) <= LIMITS.pagerduty_dedup_key


def test_pagerduty_summary_is_clipped_at_a_word(tmp_path: Path) -> None:
    incident = huge_incident(1, 100)
    incident["alerts"][0]["annotations"]["summary"] = "word " * 400
    incident["common_annotations"] = {}
    ch = _channel(
        pagerduty.PagerDutyChannel, pagerduty.PagerDutyConfig(routing_key=Secret(ROUTING_KEY))
    )
    [(_, _, properties)] = ch.plan(notification(incident=incident))  # type: ignore[attr-defined]
    summary = properties["payload"]["summary"]
    assert len(summary) <= 1024 and summary.endswith("word…")


def test_email_caps_alerts_with_more_line() -> None:
    config = email.EmailConfig(host="127.0.0.1", sender="a@example.com", to=["b@example.com"])
    ch = _channel(email.EmailChannel, config)
    msg = email.build_message(ch, huge(), config)  # type: ignore[arg-type]
    text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "+450 more alerts not shown." in text
    assert len(msg["Subject"]) <= LIMITS.email_subject


@pytest.mark.parametrize("kind", ["resolved", "digest", "test"])
def test_other_kinds_fit_too(kind: str) -> None:
    incident = huge_incident(500, 10_000)
    for a in incident["alerts"]:
        a["status"] = "resolved"
    n = notification(kind=kind, incident=incident)  # type: ignore[arg-type]
    if kind == "digest":
        folded = huge_incident(20, 10_000)
        n = type(n)(**{**n.__dict__, "digest": [folded] * 300})
    ch = _channel(discord.DiscordChannel, discord.DiscordConfig(webhook_url=Secret("https://x/y")))
    assert message_problems(discord.fitted_message(ch, n)) == []
    sl = _channel(slack.SlackChannel, slack.SlackConfig(webhook_url=Secret("https://x/y")))
    assert block_problems(slack.fitted_message(sl, n)) == []
