"""Templates: built-ins for every channel and kind, overrides, fallback, sandbox, escaping."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest

from receiver.metrics import REGISTRY
from receiver.templates import TemplateError, TemplateRenderer
from receiver.templates.context import build_context, silence_url
from receiver.templates.sample import sample_notification
from tests.sinks.notifications import notification

TEMPLATES = Path(__file__).resolve().parent.parent / "fixtures" / "templates"
KINDS = ["firing", "resolved", "escalation", "repeat", "digest", "test", "acknowledged"]
PARTS = {
    "email": ["subject.txt", "body.txt", "body.html"],
    "slack": ["title.txt", "text.txt", "footer.txt"],
    "discord": ["title.txt", "content.txt", "description.txt", "footer.txt"],
    "teams": ["title.txt", "text.txt", "footer.txt"],
    "twilio": ["body.txt"],
    "pagerduty": ["summary.txt"],
}


def errors(channel: str, template: str) -> float:
    value = REGISTRY.get_sample_value(
        "tocsin_receiver_template_errors_total", {"channel": channel, "template": template}
    )
    return value or 0.0


@pytest.mark.parametrize(
    ("channel_type", "kind"),
    # PagerDuty sends each digest entry as a `firing` event: it renders no digest template.
    [(t, k) for t in sorted(PARTS) for k in KINDS if (t, k) != ("pagerduty", "digest")],
)
def test_every_builtin_renders_strictly(channel_type: str, kind: str) -> None:
    renderer = TemplateRenderer()
    ctx = build_context(sample_notification(kind), "sample")  # type: ignore[arg-type]
    for part in PARTS[channel_type]:
        text = renderer.render_strict(channel_type, kind, part, ctx)
        if part != "content.txt" or kind == "test":
            assert text.strip(), f"{channel_type}/{kind}.{part} rendered empty"


def test_firing_message_lists_only_firing_alerts_and_resolved_only_resolved() -> None:
    renderer = TemplateRenderer()
    firing = build_context(notification(kind="firing"), "c")
    resolved = build_context(notification(kind="resolved"), "c")
    firing_text = renderer.render("email", "firing", "body.txt", firing)
    resolved_text = renderer.render("email", "resolved", "body.txt", resolved)
    assert "db1:9100" in firing_text and "db2:9100" in firing_text
    assert "web1:9100" not in firing_text
    assert "web1:9100" in resolved_text
    assert "db1:9100" not in resolved_text and "db2:9100" not in resolved_text
    assert renderer.render("slack", "resolved", "title.txt", resolved).startswith("[RESOLVED]")


def test_context_has_annotations_links_and_ids() -> None:
    ctx = build_context(notification(kind="escalation"), "pager")
    alert = ctx["alerts"][0]
    assert alert["summary"] == "Disk /var on db1:9100 is 97% full"
    assert alert["suggested_fix"].startswith("Rotate logs")
    assert alert["dashboard_url"].startswith("https://grafana.example/")
    assert alert["runbook_url"] == "https://runbooks.example/HostDiskFull"
    assert alert["generator_url"].startswith("http://prometheus.example:9090/")
    assert ctx["escalation_step"] == 2
    assert ctx["correlation_id"] == "corr-0001"
    assert [a["status"] for a in ctx["firing"]] == ["firing", "firing"]
    assert [a["status"] for a in ctx["resolved"]] == ["resolved"]
    # The second alert has no suggested_fix: present but empty, never undefined.
    assert ctx["alerts"][1]["suggested_fix"] == ""


def test_silence_link_is_alertmanagers_new_silence_form() -> None:
    url = silence_url("http://am.example:9093/", {"alertname": "X", "instance": 'a"b'})
    assert url.startswith("http://am.example:9093/#/silences/new?filter=")
    assert unquote(url.split("filter=", 1)[1]) == '{alertname="X", instance="a\\"b"}'
    assert silence_url("", {"a": "b"}) == ""


def test_limit_shows_first_alerts_and_counts_the_rest() -> None:
    ctx = build_context(notification(kind="firing"), "c", limit=1)
    assert [a["labels"]["instance"] for a in ctx["alerts"]] == ["db1:9100"]
    assert ctx["more"] == 1
    text = TemplateRenderer().render("twilio", "firing", "body.txt", ctx)
    assert text.endswith("+1 more")


def test_user_directory_overrides_builtin_by_name() -> None:
    renderer = TemplateRenderer(TEMPLATES / "good")
    ctx = build_context(notification(kind="firing"), "c")
    assert renderer.render("slack", "firing", "title.txt", ctx) == (
        "CUSTOM HostDiskFull firing=2 shown=2"
    )
    # Only the firing kind was overridden; resolved still uses the built-in.
    resolved = build_context(notification(kind="resolved"), "c")
    title = renderer.render("slack", "resolved", "title.txt", resolved)
    assert title.startswith("[RESOLVED]")
    assert title == TemplateRenderer().render("slack", "resolved", "title.txt", resolved)
    # default.* overrides every kind without its own template.
    assert renderer.render("email", "repeat", "subject.txt", ctx) == (
        "Custom subject for HostDiskFull"
    )


def test_broken_user_template_falls_back_to_builtin_and_counts() -> None:
    renderer = TemplateRenderer(TEMPLATES / "broken")
    builtin = TemplateRenderer()
    ctx = build_context(notification(kind="firing"), "broken-chan")
    before_title = errors("broken-chan", "slack/default.title.txt")
    before_text = errors("broken-chan", "slack/default.text.txt")
    title = renderer.render("slack", "firing", "title.txt", ctx, channel="broken-chan")
    text = renderer.render("slack", "firing", "text.txt", ctx, channel="broken-chan")
    assert title == builtin.render("slack", "firing", "title.txt", ctx)
    assert text == builtin.render("slack", "firing", "text.txt", ctx)
    assert errors("broken-chan", "slack/default.title.txt") == before_title + 1
    assert errors("broken-chan", "slack/default.text.txt") == before_text + 1
    with pytest.raises(TemplateError, match="no_such_filter"):
        renderer.render_strict("slack", "firing", "title.txt", ctx)
    with pytest.raises(TemplateError, match="syntax error"):
        renderer.render_strict("slack", "firing", "text.txt", ctx)


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__ }}",
        "{{ alertname.__init__.__globals__ }}",
        "{{ labels.__class__.__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{% set x = alerts.append(1) %}",
        "{{ labels.update({'a': 1}) }}",
    ],
)
def test_sandbox_refuses_python_internals_and_mutation(tmp_path: Path, source: str) -> None:
    (tmp_path / "slack").mkdir()
    (tmp_path / "slack" / "default.title.txt").write_text(source)
    renderer = TemplateRenderer(tmp_path)
    ctx = build_context(notification(kind="firing"), "sandboxed")
    with pytest.raises(TemplateError, match=r"(?i)unsafe|not safely"):
        renderer.render_strict("slack", "firing", "title.txt", ctx)
    before = errors("sandboxed", "slack/default.title.txt")
    out = renderer.render("slack", "firing", "title.txt", ctx, channel="sandboxed")
    assert out == "[FIRING:2] HostDiskFull (critical)"
    assert "class" not in out and "object" not in out
    assert errors("sandboxed", "slack/default.title.txt") == before + 1


def test_escape_fixture_never_leaks_python_objects() -> None:
    renderer = TemplateRenderer(TEMPLATES / "escape")
    ctx = build_context(notification(kind="firing"), "esc")
    for part in ("title.txt", "text.txt"):
        out = renderer.render("slack", "firing", part, ctx, channel="esc")
        assert "<class" not in out and "__builtins__" not in out and "function" not in out


def test_html_email_is_autoescaped_and_text_is_not() -> None:
    renderer = TemplateRenderer()
    ctx = build_context(notification("script_annotation.json"), "mail")
    html = renderer.render("email", "firing", "body.html", ctx)
    text = renderer.render("email", "firing", "body.txt", ctx)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "Errors &lt;b&gt;rising&lt;/b&gt; &amp; more" in html
    assert "<script>alert('x')</script>" in text


def test_slack_text_escapes_mrkdwn_control_characters() -> None:
    ctx = build_context(notification("script_annotation.json"), "s")
    text = TemplateRenderer().render("slack", "firing", "text.txt", ctx)
    assert "&lt;script&gt;" in text and "<script>" not in text


def test_test_kind_is_clearly_marked() -> None:
    renderer = TemplateRenderer()
    ctx = build_context(sample_notification("test", "chan"), "chan")
    assert renderer.render("email", "test", "subject.txt", ctx).startswith("[TEST]")
    assert "TEST message" in renderer.render("email", "test", "body.txt", ctx)
    assert renderer.render("twilio", "test", "body.txt", ctx).startswith("[TEST]")
    assert renderer.render("pagerduty", "test", "summary.txt", ctx).startswith("[TEST]")
