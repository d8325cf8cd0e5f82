"""Matchers, routes with continue and default, rate limits, backoff, Retry-After, config."""

from __future__ import annotations

from pathlib import Path

import pytest

from receiver.channels.settings import load_config
from receiver.channels.webhook import parse_retry_after
from receiver.config import RateLimit
from receiver.matchers import parse_matcher
from receiver.outbox.backoff import next_delay
from receiver.pipeline.routing import Router
from servicekit.problems import ConfigError


def test_matchers() -> None:
    assert parse_matcher('severity="critical"').matches({"severity": "critical"})
    assert not parse_matcher('severity!="critical"').matches({"severity": "critical"})
    assert parse_matcher('team=~"db|infra"').matches({"team": "infra"})
    assert not parse_matcher('team=~"db|infra"').matches({"team": "infrastructure"})
    assert parse_matcher('team!~"db"').matches({})
    with pytest.raises(ValueError, match="regular expression"):
        parse_matcher('a=~"("')
    with pytest.raises(ValueError, match="expected a matcher"):
        parse_matcher("just text")


def _config(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "receiver.yml"
    p.write_text(text)
    return p


def test_routes_continue_and_default(tmp_path: Path) -> None:
    cfg = load_config(
        _config(
            tmp_path,
            """
channels:
  - {name: pager, type: webhook, url: "http://127.0.0.1:1/p", rate_limit: 20/m}
  - {name: chat, type: webhook, url: "http://127.0.0.1:1/c"}
escalation_policies:
  - name: db
    steps: [{after: 0s, channels: [pager]}, {after: 10m, channels: [chat]}]
routes:
  - matchers: ['severity="critical"']
    channels: [pager]
    continue: true
  - matchers: ['team=~"db|infra"']
    escalation: db
    repeat_interval: 1h
default_route: {channels: [chat]}
""",
        )
    )
    router = Router.from_config(cfg)
    both = router.route({"severity": "critical", "team": "db"})
    assert both.channels == ("pager",) and both.policies == ("db",)
    assert both.repeat_interval == 3600
    assert router.route({"team": "web"}).channels == ("chat",)
    assert cfg.channels["pager"].rate_limit == RateLimit(20, 60.0)


def test_the_router_uses_the_matchers_parsed_with_the_config(tmp_path: Path) -> None:
    cfg = load_config(
        _config(
            tmp_path,
            """
routes:
  - {matchers: ['severity="critical"', 'team=~"db|infra",env!=dev'], channels: [log]}
""",
        )
    )
    parsed = cfg.routes[0].parsed_matchers
    assert [str(m) for m in parsed] == ['severity="critical"', 'team=~"db|infra"', 'env!="dev"']
    matchers, _ = Router.from_config(cfg).routes[0]
    assert all(a is b for a, b in zip(matchers, parsed, strict=True))


def test_config_reports_every_problem(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
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


def test_backoff_grows_and_honours_retry_after() -> None:
    delays = [next_delay(n, 1.0, 60.0) for n in range(1, 10)]
    assert 0.8 <= delays[0] <= 1.2 and delays[-1] <= 72.0
    assert delays[4] > delays[0]
    assert next_delay(1, 1.0, 60.0, retry_after=30.0) >= 30.0


def test_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
