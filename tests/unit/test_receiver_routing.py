"""Routes: matchers pick channels and escalation policies, with `continue` and a default."""

from __future__ import annotations

from pathlib import Path

from receiver.commands.config_file import load_config
from receiver.config import RateLimit
from receiver.pipeline.router import Router


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
