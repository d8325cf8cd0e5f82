"""The shipped heartbeat wiring agrees with itself: the watchdog rule, its own Alertmanager
route, and the example receiver's `heartbeats` entry (loaded by the receiver's loader)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from receiver.commands.config_file import load_config
from receiver.matchers import matches_all, split_matchers
from servicekit.values import Duration

REPO = Path(__file__).resolve().parents[2]


def _watchdog_labels() -> dict[str, str]:
    for group in yaml.safe_load((REPO / "rules" / "pipeline.rules.yml").read_text())["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == "TocsinWatchdog":
                assert rule["expr"] == "vector(1)"
                return {"alertname": "TocsinWatchdog", **rule["labels"]}
    raise AssertionError("no TocsinWatchdog rule")


def test_the_watchdog_has_its_own_prompt_alertmanager_route() -> None:
    am = yaml.safe_load((REPO / "deploy" / "alertmanager" / "alertmanager.yml").read_text())
    labels = _watchdog_labels()
    first = am["route"]["routes"][0]
    assert matches_all([m for s in first["matchers"] for m in split_matchers(s)], labels)
    assert first["receiver"] == am["route"]["receiver"]
    assert first["group_wait"] == "0s"
    assert Duration.parse(first["repeat_interval"]) <= 60
    assert not first.get("continue", False)
    # Inhibition would stop the heartbeat exactly when something critical is firing.
    for rule in am.get("inhibit_rules", []):
        assert not matches_all(
            [m for s in rule["target_matchers"] for m in split_matchers(s)], labels
        )


def test_the_example_receiver_watches_the_watchdog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = tmp_path / "token"
    token.write_text("t0ken\n")
    monkeypatch.setenv("TOCSIN_INGEST_TOKEN_FILE", str(token))
    cfg = load_config(REPO / "deploy" / "examples" / "receiver.yml")
    (hb,) = cfg.heartbeats
    assert matches_all(hb.parsed_matchers, _watchdog_labels())
    am = yaml.safe_load((REPO / "deploy" / "alertmanager" / "alertmanager.yml").read_text())
    route = am["route"]["routes"][0]
    # Alertmanager resends at a group_interval tick once repeat_interval has passed: up to
    # their sum between two webhooks. Twice that leaves room for one lost delivery.
    gap = Duration.parse(route["repeat_interval"]) + Duration.parse(route["group_interval"])
    assert hb.interval >= 2 * gap
    assert hb.escalation in cfg.escalation_policies
