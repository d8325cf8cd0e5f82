"""The exporter's YAML config: every problem at once, with file and key; flag precedence."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.metrics_core import Metric

from exporter.collector import Collector
from exporter.config import choose_collectors, load_config
from exporter.discovery import available
from servicekit.problems import ConfigError
from servicekit.values import Duration


@dataclass
class WidgetConfig:
    size: int = 3
    label: str = "w"

    def validate(self) -> list[tuple[str, str]]:
        return [("size", "expected at least 1")] if self.size < 1 else []


class Widget(Collector):
    name = "widget"
    Config = WidgetConfig

    def collect(self) -> Iterable[Metric]:
        return []


class Plain(Collector):
    name = "plain"

    def collect(self) -> Iterable[Metric]:
        return []


class Optional(Collector):
    name = "optional"
    default_enabled = False

    def collect(self) -> Iterable[Metric]:
        return []


KNOWN: dict[str, type[Collector]] = {"widget": Widget, "plain": Plain, "optional": Optional}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exporter.yml"
    path.write_text(text)
    return path


def test_defaults_without_a_file() -> None:
    cfg = load_config(None, KNOWN)
    assert cfg.global_.min_interval == 1.0
    assert cfg.global_.collector_timeout == 10.0
    chosen = {c.cls.name: c for c in choose_collectors(cfg, KNOWN)}
    assert set(chosen) == {"widget", "plain"}
    assert chosen["widget"].config == WidgetConfig()
    assert chosen["plain"].config is None
    assert chosen["plain"].timeout == 10.0


def test_a_full_config_is_validated_into_dataclasses(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
global:
  state_dir: /tmp/state
  min_interval: 500ms
  collector_timeout: 3s
collectors:
  widget: {timeout: 1m, size: 9, label: big}
  plain: {enabled: false}
  optional:
""",
    )
    cfg = load_config(path, KNOWN)
    assert cfg.global_.min_interval == Duration(0.5)
    assert cfg.global_.state_dir == Path("/tmp/state")
    chosen = {c.cls.name: c for c in choose_collectors(cfg, KNOWN)}
    assert set(chosen) == {"widget"}
    assert chosen["widget"].timeout == 60.0
    assert chosen["widget"].config == WidgetConfig(size=9, label="big")


def test_every_problem_is_reported_with_file_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
global:
  min_interval: soon
  colector_timeout: 3s
collectors:
  nosuch: {}
  widget: {size: 0, colour: red, timeout: -1}
  plain: {enabled: maybe, extra: 1}
surprise: true
""",
    )
    with pytest.raises(ConfigError) as err:
        load_config(path, KNOWN)
    text = str(err.value)
    for key in (
        "global.min_interval",
        "global.colector_timeout",
        "collectors.nosuch: unknown collector (known: optional, plain, widget)",
        "collectors.widget.colour: unknown key",
        "collectors.widget.timeout",
        "collectors.plain.enabled: expected true or false",
        "collectors.plain.extra: unknown key (this collector takes only: enabled, timeout)",
        "surprise: unknown key",
    ):
        assert f"{path}: {key}" in text, key


def test_collector_validate_problems_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "collectors:\n  widget: {size: 0}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, KNOWN)
    assert f"{path}: collectors.widget.size: expected at least 1" in str(err.value)


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read file"):
        load_config(tmp_path / "missing.yml", KNOWN)
    with pytest.raises(ConfigError, match="invalid YAML: line 2"):
        load_config(write(tmp_path, "global: [\n"), KNOWN)
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(write(tmp_path, "- a\n- b\n"), KNOWN)


def test_flags_override_config_which_overrides_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "collectors:\n  plain: {enabled: false}\n"), KNOWN)
    names = [c.cls.name for c in choose_collectors(cfg, KNOWN, {"plain": True, "widget": False})]
    assert names == ["plain"]
    names = [c.cls.name for c in choose_collectors(cfg, KNOWN, {"optional": True})]
    assert names == ["optional", "widget"]
    names = [
        c.cls.name for c in choose_collectors(cfg, KNOWN, {"optional": True}, disable_defaults=True)
    ]
    assert names == ["optional"]


def test_every_problem_of_real_collectors_in_one_pass(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
global:
  collector_timeout: 0s
  state_dir: /tmp/x
  state_dir: /tmp/y
collectors:
  accesslog:
    label_limit: -1
    poll_interval: 0s
    logs:
      - {name: web, path: /var/log/a.log, format: bogus}
      - {name: web, path: /var/log/b.log}
  probes:
    timeout: 0s
    probes:
      - {name: "bad name", target: "http://127.0.0.1:1/", valid_status_codes: [200, 999]}
      - {name: ok, target: "http://127.0.0.1:1/", interval: soon}
""",
    )
    with pytest.raises(ConfigError) as err:
        load_config(path, available())
    problems = {p.key: p.message for p in err.value.problems}
    assert problems == {
        "global.state_dir": "line 5: duplicate key (first set on line 4); expected each key once",
        "global.collector_timeout": "expected a duration greater than 0, got 0s",
        "collectors.accesslog.label_limit": "expected an integer at least 1, got -1",
        "collectors.accesslog.poll_interval": "expected a duration greater than 0, got 0s",
        "collectors.accesslog.logs[0].format": (
            "expected one of 'combined', 'common', 'json', 'regex', got 'bogus'"
        ),
        "collectors.accesslog.logs[1].name": "duplicate log name 'web'",
        "collectors.probes.timeout": "expected a duration greater than 0, got 0s",
        "collectors.probes.probes[0].name": "expected letters, digits and _ . : / -",
        "collectors.probes.probes[0].valid_status_codes[1]": (
            "expected an integer from 100 to 599, got 999"
        ),
        "collectors.probes.probes[1].interval": (
            "expected a duration such as 10s, 5m or 1h, got 'soon'"
        ),
    }
    assert all(p.file == str(path) for p in err.value.problems)
