"""render, test-notify and check-config for channels — and no secret in any of their output."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from receiver.channels.slack import SlackChannel, SlackConfig
from receiver.cli import main
from receiver.commands.render import snapshot_from_payload
from receiver.model.notification import Notification
from receiver.templates import TemplateRenderer
from servicekit.values import Secret
from tests.procs import free_port
from tests.sinks.base import Reply
from tests.sinks.notifications import PAYLOADS, load_payload
from tests.sinks.pagerduty import PagerDutySink
from tests.sinks.slack import SlackSink
from tests.sinks.tls import SelfSigned, make_self_signed

TEMPLATES = Path(__file__).resolve().parent.parent / "fixtures" / "templates"
SECRETS = {
    "SLACK_HOOK": "sLaCkHoOkSeCrEt000111",
    "PD_KEY": "PdRoutingKeySecret00000000000000",
    "TWILIO_TOKEN": "tWiLiOtOkEnSeCrEt222",
    "DISCORD_HOOK": "dIsCoRdHoOkSeCrEt333",
    "TEAMS_SIG": "tEaMsSiGsEcReT444",
    "SMTP_PASSWORD": "sMtPpAsSwOrDsEcReT555",
}


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def tls(tmp_path: Path) -> SelfSigned:
    return make_self_signed(tmp_path)


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    for key, value in SECRETS.items():
        if key != "SMTP_PASSWORD":
            monkeypatch.setenv(key, value)
    yield SECRETS


def write_config(
    tmp_path: Path, slack_url: str, pd_url: str, ca_file: Path, templates: Path | None = None
) -> Path:
    (tmp_path / "smtp_password").write_text(SECRETS["SMTP_PASSWORD"] + "\n")
    down = f"http://127.0.0.1:{free_port()}"
    lines = [
        "channels:",
        "  - name: ops-slack",
        "    type: slack",
        f"    webhook_url: {slack_url}/services/T0/B0/${{SLACK_HOOK}}",
        "  - name: pager",
        "    type: pagerduty",
        "    routing_key: ${PD_KEY}",
        f"    base_url: {pd_url}",
        f"    ca_file: {ca_file}",
        "  - name: sms",
        "    type: twilio",
        "    account_sid: AC00000000000000000000000000000000",
        "    auth_token: ${TWILIO_TOKEN}",
        "    from_number: '+15550000001'",
        "    to: ['+15550000002']",
        f"    base_url: {down}",
        "  - name: chat",
        "    type: discord",
        f"    webhook_url: {down}/api/webhooks/1/${{DISCORD_HOOK}}",
        "  - name: team",
        "    type: teams",
        f"    webhook_url: {down}/workflows/x/triggers/manual/paths/invoke?sig=${{TEAMS_SIG}}",
        "  - name: mail",
        "    type: email",
        "    host: 127.0.0.1",
        f"    port: {free_port()}",
        "    sender: alerts@example.com",
        "    to: [oncall@example.com]",
        "    username: tocsin",
        "    password_file: smtp_password",
        "    timeout: 5s",
    ]
    if templates is not None:
        lines.append(f"templates_dir: {templates}")
    path = tmp_path / "tocsin.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
async def slack_sink() -> AsyncIterator[SlackSink]:
    async with SlackSink() as s:
        yield s  # type: ignore[misc]


@pytest.fixture
async def pd_sink(tls: SelfSigned) -> AsyncIterator[PagerDutySink]:
    async with PagerDutySink(tls.server_context()) as s:
        yield s  # type: ignore[misc]


def test_render_channel_type_prints_the_exact_message(capsys: pytest.CaptureFixture[str]) -> None:
    payload = PAYLOADS / "disk_full.json"
    code, out, err = run_cli(
        ["render", "--channel", "slack", "--payload", str(payload), "--kind", "resolved"], capsys
    )
    assert code == 0, err
    message = json.loads(out)
    assert message["text"] == "[RESOLVED] HostDiskFull (critical)"
    assert "web1:9100" in out and "db1:9100" not in out
    channel = SlackChannel(
        "slack", SlackConfig(webhook_url=Secret("https://x/y")), TemplateRenderer()
    )
    expected = Notification(
        id=0,
        channel="slack",
        kind="resolved",
        idempotency_key="render:slack:resolved",
        correlation_id="render",
        incident=snapshot_from_payload(load_payload("disk_full.json")),
    )
    assert message == channel.message(expected)


@pytest.mark.parametrize("channel", ["email", "slack", "pagerduty", "twilio", "discord", "teams"])
@pytest.mark.parametrize("kind", ["firing", "resolved", "escalation", "digest", "test"])
def test_render_every_type_and_kind(
    channel: str, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["render", "--channel", channel, "--kind", kind], capsys)
    assert code == 0, err
    assert out.strip()


def test_render_with_user_templates(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        ["render", "--channel", "slack", "--templates", str(TEMPLATES / "good")], capsys
    )
    assert code == 0
    assert json.loads(out)["text"] == "CUSTOM HostDiskFull firing=2 shown=2"


def test_render_rejects_bad_payload_and_unknown_channel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    data = load_payload("disk_full.json")
    data["alerts"][0]["status"] = "burning"
    bad.write_text(json.dumps(data))
    code, _, err = run_cli(["render", "--channel", "slack", "--payload", str(bad)], capsys)
    assert code == 1 and "alerts[0].status" in err
    code, _, err = run_cli(["render", "--channel", "nope"], capsys)
    assert code == 1 and "unknown channel 'nope'" in err


def test_check_config_renders_templates_strictly(
    tmp_path: Path,
    tls: SelfSigned,
    secret_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = write_config(tmp_path, "http://127.0.0.1:1", "https://127.0.0.1:1", tls.cert_file)
    code, out, err = run_cli(["check-config", str(good)], capsys)
    assert code == 0, err
    broken = write_config(
        tmp_path, "http://127.0.0.1:1", "https://127.0.0.1:1", tls.cert_file, TEMPLATES / "broken"
    )
    code, out2, err2 = run_cli(["check-config", str(broken)], capsys)
    assert code == 3
    assert "channels.ops-slack: template slack/default.title.txt" in err2
    assert "no_such_filter" in err2
    assert "slack/default.text.txt" in err2 and "syntax error" in err2
    typo = tmp_path / "typo"
    (typo / "slack").mkdir(parents=True)
    (typo / "slack" / "firing.txt").write_text("{{ nope }}")
    (typo / "email").mkdir()
    (typo / "email" / "default.subject.txt").write_text("{{ alertnmae }}")
    path = write_config(tmp_path, "http://127.0.0.1:1", "https://127.0.0.1:1", tls.cert_file, typo)
    code, out3, err3 = run_cli(["check-config", str(path)], capsys)
    assert code == 3
    assert "slack/firing.txt is not a template tocsin uses" in err3
    assert "'alertnmae' is undefined" in err3
    for secret in secret_env.values():
        assert secret not in out + err + out2 + err2 + out3 + err3


async def test_test_notify_reports_the_provider_answer(
    tmp_path: Path,
    tls: SelfSigned,
    secret_env: dict[str, str],
    slack_sink: SlackSink,
    pd_sink: PagerDutySink,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    config = write_config(tmp_path, slack_sink.url, pd_sink.url, tls.cert_file)

    def notify(name: str) -> tuple[int, str, str]:
        return run_cli(["test-notify", "--channel", name, "--config.file", str(config)], capsys)

    code, out, err = await asyncio.to_thread(notify, "ops-slack")
    assert code == 0, err
    report = json.loads(out)
    assert report["ok"] is True and report["status"] == "200"
    assert slack_sink.messages()[0]["text"].startswith("[TEST]")
    code, out_pd, err_pd = await asyncio.to_thread(notify, "pager")
    assert code == 0, err_pd
    assert [e["event_action"] for e in pd_sink.events] == ["trigger", "resolve"]
    outputs = [out, err, out_pd, err_pd]
    # Failures: a 403 from Slack, and every other channel pointing at closed ports.
    slack_sink.script(Reply(403, "invalid_token"))
    for name in ("ops-slack", "sms", "chat", "team", "mail"):
        code, o, e = await asyncio.to_thread(notify, name)
        assert code == 1, (name, o, e)
        assert json.loads(o)["ok"] is False
        assert json.loads(o)["error"]
        outputs += [o, e]
    captured = "\n".join(outputs) + caplog.text
    for secret in secret_env.values():
        assert secret not in captured
    # The secrets really were used: the sinks received them.
    assert any(SECRETS["SLACK_HOOK"] in r.path for r in slack_sink.requests)
    assert pd_sink.events[0]["routing_key"] == SECRETS["PD_KEY"]


def test_render_of_configured_channels_shows_no_secret(
    tmp_path: Path,
    tls: SelfSigned,
    secret_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:1", "https://127.0.0.1:1", tls.cert_file)
    captured = ""
    for name in ("ops-slack", "pager", "sms", "chat", "team", "mail"):
        code, out, err = run_cli(
            ["render", "--channel", name, "--config.file", str(config)], capsys
        )
        assert code == 0, err
        captured += out + err
    assert '"routing_key": "<redacted>"' in captured
    for secret in secret_env.values():
        assert secret not in captured
