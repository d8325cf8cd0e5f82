"""Receiver config validation: values that would break the service, duplicates, and every
problem in one pass with no false "unknown" reports."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from receiver.commands.config_file import load_config
from receiver.config import RateLimit, TokenConfig
from receiver.http.auth import Authenticator
from servicekit.problems import ConfigError
from servicekit.values import Secret


def _problems(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "receiver.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert all(p.file == str(path) for p in err.value.problems)
    found: dict[str, str] = {}
    for p in err.value.problems:
        found[p.key] = f"{found[p.key]} | {p.message}" if p.key in found else p.message
    return found


def test_values_that_break_the_service_are_rejected(tmp_path: Path) -> None:
    found = _problems(
        tmp_path,
        """
web: {max_body_bytes: -5, body_read_timeout: 0s}
outbox: {concurrency: 0, max_attempts: 0, backoff_initial: 10m, backoff_max: 1m}
storm: {threshold: -1, window: 0s}
retention: 0s
""",
    )
    assert found == {
        "web.max_body_bytes": "expected an integer at least 1, got -5",
        "web.body_read_timeout": "expected a duration greater than 0, got 0s",
        "outbox.concurrency": "expected an integer at least 1, got 0",
        "outbox.max_attempts": "expected an integer at least 1, got 0",
        "outbox.backoff_initial": "expected no more than backoff_max",
        "storm.threshold": "expected an integer at least 0, got -1",
        "storm.window": "expected a duration greater than 0, got 0s",
        "retention": "expected a duration greater than 0, got 0s",
    }


def test_duplicates_and_the_builtin_log_channel(tmp_path: Path) -> None:
    found = _problems(
        tmp_path,
        """
retention: 30d
channels:
  - {name: hook, type: webhook, url: "http://127.0.0.1:9/a"}
  - {name: hook, type: webhook, url: "http://127.0.0.1:9/b"}
  - {name: log, type: webhook, url: "http://127.0.0.1:9/c"}
escalation_policies:
  - {name: pol, steps: [{channels: [hook]}]}
  - {name: pol, steps: [{channels: []}]}
routes:
  - {escalation: pol}
retention: 1s
""",
    )
    assert found.keys() == {
        "retention",
        "channels[1].name",
        "channels[2].type",
        "escalation_policies[1].name",
        "escalation_policies[1].steps[0].channels",
    }
    assert found["retention"].startswith("line 12: duplicate key (first set on line 2)")
    assert "duplicate channel name 'hook'" in found["channels[1].name"]
    assert "built-in log channel" in found["channels[2].type"]
    assert "duplicate escalation policy name 'pol'" in found["escalation_policies[1].name"]
    assert found["escalation_policies[1].steps[0].channels"] == "expected at least one channel"


def test_every_problem_at_once_and_no_false_unknowns(tmp_path: Path) -> None:
    found = _problems(
        tmp_path,
        """
channels:
  - {name: oncall-hook, type: webhook, url: "ftp://nope"}
  - {name: dup, type: log}
  - {name: dup, type: log}
escalation_policies:
  - name: pol
    steps:
      - {channels: [oncall-hook, ghost], after: soon}
      - {channels: [dup], after: 5m}
routes:
  - {matchers: ['severity=="critical"'], channels: [oncall-hook]}
  - {matchers: ['team="db'], escalation: pol}
  - {channels: [ghost2], repeat_interval: never}
storm: {threshold: -2}
""",
    )
    assert found.keys() == {
        "channels[0].url",
        "channels[2].name",
        "escalation_policies[0].steps[0].channels[1]",
        "escalation_policies[0].steps[0].after",
        "routes[0].matchers[0]",
        "routes[1].matchers[0]",
        "routes[2].channels[0]",
        "routes[2].repeat_interval",
        "storm.threshold",
    }
    text = " ".join(found.values())
    assert "oncall-hook" not in text and "'pol'" not in text  # defined, so not "unknown"
    assert found["escalation_policies[0].steps[0].channels[1]"] == "unknown channel 'ghost'"
    assert found["routes[2].channels[0]"] == "unknown channel 'ghost2'"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_two_tokens_with_one_secret_are_rejected(tmp_path: Path) -> None:
    secret_file = tmp_path / "am.token"
    secret_file.write_text("ingestsecret456\n")
    found = _problems(
        tmp_path,
        f"""
auth:
  tokens:
    - {{name: am1, roles: [ingest], token_file: {secret_file}}}
    - {{name: am2, roles: [viewer], token: ingestsecret456}}
    - {{name: am3, roles: [admin], sha256: {_sha("ingestsecret456").upper()}}}
    - {{name: ok, roles: [admin], sha256: {_sha("other")}}}
    - {{name: ok, roles: [viewer], token: "has space"}}
""",
    )
    assert found.keys() == {
        "auth.tokens[1]",
        "auth.tokens[2]",
        "auth.tokens[4].name",
        "auth.tokens[4].token",
    }
    assert "same secret as auth.tokens[0]" in found["auth.tokens[1]"]
    assert "same secret as auth.tokens[0]" in found["auth.tokens[2]"]
    assert "ingestsecret456" not in " ".join(found.values())


def test_authenticator_refuses_shadowed_tokens() -> None:
    one = TokenConfig("a", ["ingest"], token=Secret("s3cret"))
    two = TokenConfig("b", ["viewer"], sha256=_sha("s3cret"))
    with pytest.raises(ValueError, match="'b' has the same secret as token 'a'"):
        Authenticator([one, two])
    auth = Authenticator([one, TokenConfig("b", ["viewer"], token=Secret("other"))])
    assert auth.identify("s3cret") == ("a", {"ingest"})


def test_a_valid_config_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "receiver.yml"
    path.write_text(
        """
channels:
  - {name: hook, type: webhook, url: "http://127.0.0.1:9/a"}
  - {name: log, type: log}
escalation_policies:
  - {name: pol, steps: [{channels: [hook]}, {channels: [log], after: 10m}]}
routes:
  - {matchers: ['severity="critical"', 'team=~"db|infra",env!=dev'], escalation: pol}
default_route: {channels: [log]}
outbox: {backoff_initial: 1s, backoff_max: 1s}
retention: 10y
auth:
  tokens: [{name: am, roles: [ingest], sha256: "SHA"}]
""".replace("SHA", _sha("x"))
    )
    cfg = load_config(path)
    assert set(cfg.channels) == {"hook", "log"}
    assert float(cfg.escalation_policies["pol"].steps[1].after) == 600.0
    assert cfg.routes[0].matchers == ['severity="critical"', 'team=~"db|infra",env!=dev']


def test_config_reports_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "receiver.yml"
    path.write_text(
        """
channels:
  - {name: hook, type: webhook, url: "ftp://x", rate_limit: fast}
  - {name: x, type: carrier-pigeon}
routes:
  - matchers: ['sev=~"("']
    channels: [nowhere]
default_route: {escalation: missing}
auth:
  tokens: [{name: t, roles: [root], sha256: abc}]
storm: {threshold: lots}
""",
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    for expected in (
        "channels[0].rate_limit",
        "channels[0].url",
        "channels[1].type",
        "routes[0].matchers[0]",
        "routes[0].channels[0]",
        "default_route.escalation",
        "auth.tokens[0].sha256",
        "auth.tokens[0].roles[0]",
        "storm.threshold",
    ):
        assert expected in text, expected
    assert all(p.file == str(path) for p in err.value.problems)


def test_rate_limit_parse() -> None:
    assert RateLimit.parse("5/s") == RateLimit(5, 1.0)
    assert RateLimit.parse("100/5m") == RateLimit(100, 300.0)
    with pytest.raises(ValueError):
        RateLimit.parse("0/s")


def test_a_channel_s_common_keys_are_checked(tmp_path: Path) -> None:
    found = _problems(
        tmp_path,
        """
channels:
  - {type: webhook, url: "http://127.0.0.1:1/"}
  - {name: "", type: webhook, url: "http://127.0.0.1:1/"}
  - {name: a, type: nope}
  - {name: b, type: webhook, url: "http://127.0.0.1:1/", rate_limit: fast}
""",
    )
    assert found["channels[0].name"] == "required key is missing (a non-empty string)"
    assert found["channels[1].name"] == "expected a non-empty name"
    assert found["channels[2].type"].startswith("expected one of discord, email, log,")
    assert found["channels[3].rate_limit"] == "expected a rate such as 5/s or 20/m, got 'fast'"
