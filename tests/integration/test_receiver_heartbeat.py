"""Heartbeats end to end: a real Prometheus evaluating rules/pipeline.rules.yml sends
TocsinWatchdog through a real Alertmanager to the receiver (a subprocess), which pages a
local webhook sink when the watchdog stops and resolves the page when it returns; a
receiver down past the deadline pages exactly once, through the retried outbox; and
check-config names the keys of a bad `heartbeats` section."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from tests.conftest import require_binary
from tests.integration.receiver_harness import (
    Alertmanager,
    Received,
    ReceiverProcess,
    Sink,
    am_alert,
    am_payload,
    post_webhook,
    wait_for,
)
from tests.procs import REPO, free_port, prometheus_args, run_module, start, stop_process

pytestmark = pytest.mark.integration

MISSED = "TocsinHeartbeatMissed"
LAST_SEEN = 'tocsin_receiver_heartbeat_last_seen_timestamp_seconds{heartbeat="watchdog"}'


def _config(sink: Sink, interval: str) -> dict[str, Any]:
    return {
        "channels": [
            {"name": "pager", "type": "webhook", "url": sink.url},
            {"name": "team", "type": "webhook", "url": sink.url + "?team"},
        ],
        "default_route": {"channels": ["team"]},
        "heartbeats": [
            {
                "name": "watchdog",
                "matchers": ['alertname="TocsinWatchdog"'],
                "interval": interval,
                "channels": ["pager"],
            }
        ],
    }


def _pages(sink: Sink, kind: str) -> list[Received]:
    return [
        r
        for r in sink.of_kind(kind)
        if r.body["incident"]["common_labels"].get("alertname") == MISSED
    ]


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    s = await Sink().start()
    yield s
    await s.stop()


async def _incidents(receiver: ReceiverProcess) -> list[dict[str, Any]]:
    status, doc = await receiver.api("GET", "/api/v1/incidents")
    assert status == 200, doc
    return list(doc["incidents"])


async def test_stopping_alertmanager_pages_and_its_return_resolves(
    tmp_path: Path, sink: Sink
) -> None:
    prometheus = require_binary("prometheus")
    interval = 5.0
    receiver = ReceiverProcess(tmp_path, _config(sink, f"{interval:g}s"))
    # Resent every second: well inside the interval, as the shipped route's 1m is inside 5m.
    am = Alertmanager(
        require_binary("alertmanager"),
        tmp_path,
        receiver.url + "/webhook/alertmanager",
        group_wait="0s",
        group_interval="1s",
        repeat_interval="1s",
    )
    await am.start()
    prom_port = free_port()
    prom_cfg = {
        "global": {"evaluation_interval": "1s"},
        "rule_files": [str(REPO / "rules" / "pipeline.rules.yml")],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [am.url.removeprefix("http://")]}]}]
        },
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(prom_cfg))
    args = prometheus_args(prometheus, tmp_path / "prometheus.yml", tmp_path / "tsdb", prom_port)
    # Resend active alerts every second, so a restarted Alertmanager has the watchdog at once.
    prom = start([*args, "--rules.alert.resend-delay=1s"], tmp_path / "prometheus.log")
    try:
        await receiver.start()
        await wait_for(
            lambda: _seen(receiver),
            60,
            interval=0.2,
            what="the watchdog at the receiver",
        )
        # Should Prometheus and Alertmanager have been slower to start than the interval,
        # the page that caused has resolved by now; from here on the watchdog flows.
        await wait_for(
            lambda: len(_pages(sink, "resolved")) == len(_pages(sink, "firing")),
            30,
            what="no heartbeat page open",
        )
        before = len(_pages(sink, "firing"))
        await asyncio.sleep(2 * interval)
        assert len(_pages(sink, "firing")) == before, "paged while the watchdog was arriving"
        # The watchdog itself never became an incident or a notification.
        incidents = await _incidents(receiver)
        assert [i for i in incidents if i["common_labels"].get("alertname") != MISSED] == []
        assert [r for r in sink.received if r.body["channel"] == "team"] == []

        am.stop()
        stopped = time.time()
        await wait_for(
            lambda: len(_pages(sink, "firing")) == before + 1,
            interval + 10,
            interval=0.1,
            what="the missed-heartbeat page",
        )
        page = _pages(sink, "firing")[-1]
        last_seen = await receiver.metric(LAST_SEEN)
        # (A webhook answered just before Alertmanager exited may be applied just after.)
        assert stopped - interval - 3 <= last_seen <= stopped + 1
        # Paged once the interval had passed since the last watchdog, and within the
        # interval (plus a scheduler tick and a delivery) of Alertmanager stopping.
        assert last_seen + interval <= page.at <= stopped + interval + 2
        incident = page.body["incident"]
        assert page.body["channel"] == "pager"
        assert incident["common_labels"]["heartbeat"] == "watchdog"
        assert incident["severity"] == "critical"
        assert "watchdog has stopped arriving" in incident["common_annotations"]["summary"]

        await am.start()
        await wait_for(
            lambda: len(_pages(sink, "resolved")) == before + 1,
            60,
            interval=0.2,
            what="the resolved notification",
        )
        resolved = _pages(sink, "resolved")[-1]
        assert resolved.body["incident"]["id"] == incident["id"]
        assert resolved.body["incident"]["state"] == "resolved"
        assert len(_pages(sink, "firing")) == before + 1
        assert (
            await receiver.metric('tocsin_receiver_heartbeat_missed_total{heartbeat="watchdog"}')
            == before + 1
        )
    finally:
        stop_process(prom)
        am.stop()
        receiver.stop()


async def _seen(receiver: ReceiverProcess) -> bool:
    return await receiver.metric(LAST_SEEN) > 0


async def _beat(receiver: ReceiverProcess) -> None:
    watchdog = am_alert("wd", alertname="TocsinWatchdog", severity="info")
    async with aiohttp.ClientSession() as s:
        status, doc = await post_webhook(s, receiver.url, am_payload("wd", [watchdog]))
    assert status == 200, doc


async def test_down_past_the_deadline_pages_once_and_only_once(tmp_path: Path, sink: Sink) -> None:
    interval = 3.0
    receiver = await ReceiverProcess(tmp_path, _config(sink, f"{interval:g}s")).start()
    try:
        await _beat(receiver)
        await wait_for(lambda: _seen(receiver), 30, what="the heartbeat stored")
        deadline = await receiver.metric(LAST_SEEN) + interval
        receiver.stop()
        await asyncio.sleep(max(0.0, deadline + 1 - time.time()))
        assert sink.received == []

        # The first delivery attempt fails: the page is retried from the outbox.
        sink.script = [(503, {})]
        await receiver.start()
        await wait_for(lambda: len(_pages(sink, "firing")) == 1, 30, what="the page on start")
        assert len(sink.attempts) >= 2
        # Killed and restarted while still missing: no second page.
        receiver.kill()
        await receiver.start()
        await asyncio.sleep(2 * interval)
        assert len(_pages(sink, "firing")) == 1
        assert await receiver.metric("tocsin_receiver_heartbeat_missed_total") == 0
        (open_page,) = [i for i in await _incidents(receiver) if i["state"] == "firing"]
        assert open_page["common_labels"]["alertname"] == MISSED

        # It comes back: one resolution. Then it stops again: a second page.
        await _beat(receiver)
        await wait_for(lambda: len(_pages(sink, "resolved")) == 1, 30, what="resolution")
        await wait_for(
            lambda: len(_pages(sink, "firing")) == 2, interval + 10, what="the second page"
        )
        first, second = _pages(sink, "firing")
        assert first.body["incident"]["id"] != second.body["incident"]["id"]
        assert len(_pages(sink, "resolved")) == 1
    finally:
        receiver.stop()


def test_check_config_names_the_bad_heartbeat_keys(tmp_path: Path) -> None:
    bad = tmp_path / "receiver.yml"
    bad.write_text(
        yaml.safe_dump(
            {
                "channels": [{"name": "pager", "type": "webhook", "url": "http://127.0.0.1:9/"}],
                "heartbeats": [
                    {"name": "a", "matchers": ['alertname="A"'], "interval": "0s"},
                    {
                        "name": "b",
                        "matchers": ['alertname="B"'],
                        "interval": "5m",
                        "channels": ["pagr"],
                    },
                    {
                        "name": "c",
                        "matchers": ['alertname="C"'],
                        "interval": "5m",
                        "escalation": "oncall",
                    },
                ],
            }
        )
    )
    out = run_module("receiver", "check-config", str(bad))
    assert out.returncode == 3, out.stdout + out.stderr
    assert "3 problem(s) found" in out.stderr
    lines = sorted(line for line in out.stderr.splitlines() if line.startswith(str(bad)))
    assert lines == [
        f"{bad}: heartbeats[0].interval: expected a duration greater than 0, got 0s",
        f"{bad}: heartbeats[1].channels[0]: unknown channel 'pagr'",
        f"{bad}: heartbeats[2].escalation: unknown escalation policy 'oncall'",
    ]
