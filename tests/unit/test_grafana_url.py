"""`grafana_url`: the one place the Grafana address is set; path-only dashboard links in
alert annotations are joined to it in every channel's template context."""

from __future__ import annotations

from pathlib import Path

import pytest

from receiver.commands.config_file import load_config
from receiver.templates.context import build_context, dashboard_link
from receiver.templates.sample import sample_notification
from receiver.web.links import links_of
from servicekit.problems import ConfigError

PATH = "/d/tocsin-host-overview/tocsin-host-overview?viewPanel=14&var-cluster=a&var-job=node"


def test_a_path_is_joined_to_the_base_and_anything_else_left_alone() -> None:
    base = "https://grafana.example/grafana"
    assert dashboard_link(PATH, base) == base + PATH
    assert dashboard_link(PATH, base + "/") == base + PATH
    assert dashboard_link(PATH, "") == PATH
    assert dashboard_link("https://other.example/d/x", base) == "https://other.example/d/x"
    # Scheme-relative: another host, not a path under Grafana.
    assert dashboard_link("//evil.example/d/x", base) == "//evil.example/d/x"
    assert dashboard_link("", base) == ""


def test_the_context_carries_joined_links_for_the_incident_and_each_alert() -> None:
    notification = sample_notification("firing")
    for alert in notification.incident["alerts"]:
        alert["annotations"]["dashboard_url"] = PATH
    notification.incident["common_annotations"]["dashboard_url"] = PATH
    ctx = build_context(notification, "mail", grafana_url="https://g.example")
    assert ctx["dashboard_url"] == "https://g.example" + PATH
    assert ctx["alerts"]
    assert {a["dashboard_url"] for a in ctx["alerts"]} == {"https://g.example" + PATH}
    assert build_context(notification, "mail")["dashboard_url"] == PATH


def test_the_incident_page_links_the_joined_dashboard() -> None:
    doc = {
        "common_annotations": {},
        "alerts": [{"annotations": {"dashboard_url": PATH}, "generator_url": ""}],
        "common_labels": {},
        "group_labels": {},
        "external_url": "",
    }
    assert links_of(doc, "https://g.example")["dashboard"] == "https://g.example" + PATH
    # A bare path is not a link without a base to resolve it against.
    assert links_of(doc)["dashboard"] is None


def test_config_reads_grafana_url(tmp_path: Path) -> None:
    path = tmp_path / "receiver.yml"
    path.write_text("grafana_url: https://grafana.example.com/\n")
    assert load_config(path).grafana_url == "https://grafana.example.com"


@pytest.mark.parametrize(
    "value", ["grafana.test.internal", "ftp://grafana.test", "https://u:secret-pw@g.test/?a=1"]
)
def test_a_bad_grafana_url_is_refused_naming_the_field_not_the_value(
    tmp_path: Path, value: str
) -> None:
    path = tmp_path / "receiver.yml"
    path.write_text(f"grafana_url: '{value}'\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert [p.key for p in err.value.problems] == ["grafana_url"]
    assert value not in str(err.value) and "secret-pw" not in str(err.value)
