"""PagerDuty through the `pagerduty` package against a local Events API v2 over HTTPS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from receiver.channels.pagerduty import PagerDutyChannel, PagerDutyConfig, dedup_key
from receiver.templates import TemplateRenderer
from servicekit.values import Secret
from tests.procs import free_port
from tests.sinks.base import Reply
from tests.sinks.notifications import notification
from tests.sinks.pagerduty import PagerDutySink
from tests.sinks.tls import SelfSigned, make_self_signed

ROUTING_KEY = "R0ut1ngKeyS3cret0000000000000000"


@pytest.fixture
def tls(tmp_path: Path) -> SelfSigned:
    return make_self_signed(tmp_path)


@pytest.fixture
async def sink(tls: SelfSigned) -> AsyncIterator[PagerDutySink]:
    async with PagerDutySink(tls.server_context()) as s:
        yield s  # type: ignore[misc]


def make_channel(sink: PagerDutySink, tls: SelfSigned, **kw: object) -> PagerDutyChannel:
    config = PagerDutyConfig(
        routing_key=Secret(ROUTING_KEY),
        base_url=sink.url,
        ca_file=tls.cert_file,
        **kw,  # type: ignore[arg-type]
    )
    return PagerDutyChannel("pd", config, TemplateRenderer())


async def test_trigger_exact_event(sink: PagerDutySink, tls: SelfSigned) -> None:
    channel = make_channel(sink, tls)
    n = notification()
    result = await channel.send(n)
    await channel.close()
    assert result.ok, result
    [request] = sink.requests
    assert request.path == "/v2/enqueue"
    key = dedup_key(n.incident)
    silence = "http://alertmanager.example:9093/#/silences/new?filter=%7Balertname%3D%22HostDiskFull%22%7D"
    assert request.json == {
        "event_action": "trigger",
        "dedup_key": key,
        "routing_key": ROUTING_KEY,
        "client": "tocsin",
        "client_url": "http://alertmanager.example:9093",
        "links": [
            {"href": "https://runbooks.example/HostDiskFull", "text": "Runbook"},
            {"href": "https://grafana.example/d/node?var-instance=db1:9100", "text": "Dashboard"},
            {
                "href": "http://prometheus.example:9090/graph?g0.expr=node_filesystem_avail_bytes",
                "text": "Source",
            },
            {"href": silence, "text": "Silence in Alertmanager"},
        ],
        "payload": {
            "summary": "HostDiskFull: Disk /var on db1:9100 is 97% full (2 alerts)",
            "source": "db1:9100",
            "severity": "critical",
            "class": "HostDiskFull",
            "component": "node",
            "timestamp": "2024-05-01T10:00:00Z",
            "custom_details": {
                "incident_id": 1,
                "incident_key": n.incident["key"],
                "correlation_id": "corr-0001",
                "firing": 2,
                "resolved": 1,
                "labels": {"alertname": "HostDiskFull", "job": "node", "severity": "critical"},
                "annotations": {"runbook_url": "https://runbooks.example/HostDiskFull"},
                "alerts": [
                    {
                        "status": a["status"],
                        "labels": a["labels"],
                        "annotations": a["annotations"],
                        "starts_at": a["starts_at"],
                        "ends_at": a["ends_at"],
                    }
                    for a in n.incident["alerts"]
                    if a["status"] == "firing"
                ],
            },
        },
    }
    assert len(key) <= 255
    assert sink.incidents == {key: "triggered"}


async def test_lifecycle_trigger_acknowledge_resolve_on_one_key(
    sink: PagerDutySink, tls: SelfSigned
) -> None:
    channel = make_channel(sink, tls)
    assert channel.wants_ack_events
    firing = notification(kind="firing")
    key = dedup_key(firing.incident)
    assert (await channel.send(firing)).ok
    acked_incident = {**firing.incident, "acked_by": "alice", "state": "acknowledged"}
    assert (await channel.send(notification(kind="acknowledged", incident=acked_incident))).ok
    assert sink.incidents[key] == "acknowledged"
    assert (await channel.send(notification(kind="resolved"))).ok
    await channel.close()
    assert [(e["event_action"], e["dedup_key"]) for e in sink.events] == [
        ("trigger", key),
        ("acknowledge", key),
        ("resolve", key),
    ]
    assert sink.incidents == {key: "resolved"}


async def test_repeat_after_restart_collapses_into_same_incident(
    sink: PagerDutySink, tls: SelfSigned
) -> None:
    first = make_channel(sink, tls)
    n = notification(kind="firing")
    assert (await first.send(n)).ok
    await first.close()
    # A new process (fresh channel and client) re-sending the same incident after a crash,
    # and a later repeat, both land on the same dedup_key.
    second = make_channel(sink, tls)
    assert (await second.send(replace(n, attempt=2))).ok
    assert (await second.send(notification(kind="repeat", notification_id=7))).ok
    await second.close()
    keys = {e["dedup_key"] for e in sink.events}
    assert keys == {dedup_key(n.incident)}
    assert len(sink.incidents) == 1


async def test_severity_mapping(sink: PagerDutySink, tls: SelfSigned) -> None:
    channel = make_channel(sink, tls, severity_map={"critical": "error"})
    assert channel.severity({"severity": "critical"}) == "error"
    assert channel.severity({"severity": "warning"}) == "warning"
    assert channel.severity({"severity": "info"}) == "info"
    assert channel.severity({"severity": "whatever"}) == "warning"
    await channel.send(notification())
    await channel.close()
    assert sink.requests[0].json["payload"]["severity"] == "error"


async def test_test_notification_triggers_and_resolves_its_own_key(
    sink: PagerDutySink, tls: SelfSigned
) -> None:
    channel = make_channel(sink, tls)
    result = await channel.send(notification(kind="test"))
    await channel.close()
    assert result.ok
    actions = [(e["event_action"], e["dedup_key"]) for e in sink.events]
    assert actions == [("trigger", "tocsin-test-pd-1"), ("resolve", "tocsin-test-pd-1")]
    assert sink.events[0]["payload"]["summary"].startswith("[TEST]")
    assert sink.events[0]["payload"]["severity"] == "info"


async def test_rate_limit_is_returned_not_slept_on(sink: PagerDutySink, tls: SelfSigned) -> None:
    sink.script(
        Reply(
            429,
            {
                "status": "throttle event",
                "message": "Requests for this service are arriving too quickly.",
            },
            {"Retry-After": "30"},
        )
    )
    channel = make_channel(sink, tls)
    result = await channel.send(notification())
    await channel.close()
    assert not result.ok and result.retry
    assert result.retry_after == 30.0
    assert len(sink.requests) == 1


async def test_server_error_retryable_bad_event_permanent(
    sink: PagerDutySink, tls: SelfSigned
) -> None:
    sink.script(Reply(502, "bad gateway"))
    channel = make_channel(sink, tls)
    result = await channel.send(notification())
    assert not result.ok and result.retry and result.status == "502"
    # A routing key PagerDuty does not accept is a permanent 400.
    bad = PagerDutyChannel(
        "pd-bad",
        PagerDutyConfig(
            routing_key=Secret("short-key-secret"), base_url=sink.url, ca_file=tls.cert_file
        ),
        TemplateRenderer(),
    )
    result = await bad.send(notification())
    await channel.close()
    await bad.close()
    assert not result.ok and not result.retry and result.status == "400"
    assert "routing_key" in (result.error or "")
    assert "short-key-secret" not in (result.error or "")


async def test_unreachable_is_retryable_without_secret(tls: SelfSigned) -> None:
    config = PagerDutyConfig(
        routing_key=Secret(ROUTING_KEY),
        base_url=f"https://127.0.0.1:{free_port()}",
        ca_file=tls.cert_file,
    )
    channel = PagerDutyChannel("pd-down", config, TemplateRenderer())
    result = await channel.send(notification())
    await channel.close()
    assert not result.ok and result.retry
    assert ROUTING_KEY not in (result.error or "")


def test_config_validation() -> None:
    problems = PagerDutyConfig(
        routing_key=Secret("x"), base_url="http://plain", severity_map={"a": "bogus"}
    ).validate()
    keys = [k for k, _ in problems]
    assert keys == ["routing_key", "base_url", "severity_map.a"]
