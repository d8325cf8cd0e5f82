"""Faults injected into a running stack raise exactly their alert, and a shipped alert's
notifications carry its suggested fix and dashboard link.

A real exporter (certificates, an access log, a watched file), a real Prometheus loading
every file in rules/ (a copy in which only the two alerts under test get a 2s `for`; the
expressions are the shipped ones) with the shipped `alert_relabel_configs` and external
labels `cluster` and `replica`, a real Alertmanager and the real receiver delivering by
email (aiosmtpd) and to Slack (the local Slack sink), with `grafana_url` set.

1. SecurityWatchedFileChanged (a baseline that differs from the file, so it fires at once)
   reaches the email and Slack messages with its suggested fix and a Grafana link to an
   existing dashboard panel, carrying `cluster` and not `replica`.
2. A certificate replaced by an unparsable file raises SecurityCertificateUnreadable, and
   no other alert starts firing or pending.
3. An access log switched to another format raises AppLogFormatDrift, and nothing else.
Host* alerts are left out of "nothing else": they follow this shared machine's load,
which the faults do not touch.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import json
import re
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import aiohttp
import pytest
import yaml
from aiosmtpd.controller import Controller

from tests.conftest import require_binary, self_signed_cert
from tests.integration.receiver_harness import Alertmanager, ReceiverProcess, wait_for
from tests.procs import REPO, free_port, prometheus_args, run_exporter, start, stop_process
from tests.sinks.slack import SlackSink

pytestmark = pytest.mark.integration

GRAFANA = "https://grafana.example"
UNDER_TEST = ("SecurityCertificateUnreadable", "AppLogFormatDrift")
SHIPPED_PROMETHEUS = REPO / "deploy" / "prometheus" / "prometheus.yml"


@dataclass
class Mailbox:
    """aiosmtpd handler keeping every message."""

    envelopes: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 2.0.0 queued"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes
        ]


def rule_copy(directory: Path) -> Path:
    """rules/*.rules.yml with a 2s `for` on the alerts under test, nothing else changed."""
    directory.mkdir()
    for path in (REPO / "rules").glob("*.rules.yml"):
        doc = yaml.safe_load(path.read_text())
        for group in doc["groups"]:
            for rule in group["rules"]:
                if rule.get("alert") in UNDER_TEST:
                    rule["for"] = "2s"
        (directory / path.name).write_text(yaml.safe_dump(doc))
    return directory


def dashboard_panels() -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for path in (REPO / "dashboards").glob("*.json"):
        doc = json.loads(path.read_text())
        ids: set[int] = set()
        stack = list(doc["panels"])
        while stack:
            panel = stack.pop()
            ids.add(panel["id"])
            stack.extend(panel.get("panels", []))
        out[doc["uid"]] = ids
    return out


def shipped_annotation(alert: str, key: str) -> str:
    for path in (REPO / "rules").glob("*.rules.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if rule.get("alert") == alert:
                    return str(rule["annotations"][key])
    raise KeyError(alert)


@pytest.fixture
async def slack() -> AsyncIterator[SlackSink]:
    sink = SlackSink()
    await sink.start()
    yield sink
    await sink.stop()


@pytest.fixture
async def mailbox() -> AsyncIterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    await asyncio.to_thread(controller.start)
    yield box, controller.port
    await asyncio.to_thread(controller.stop)


async def test_faults_raise_exactly_their_alert_and_notifications_carry_fix_and_link(
    tmp_path: Path, slack: SlackSink, mailbox: tuple[Mailbox, int]
) -> None:
    prometheus = require_binary("prometheus")
    box, smtp_port = mailbox
    cert, _ = self_signed_cert(tmp_path, "fault.example")
    access_log = tmp_path / "access.log"
    access_log.write_text("")
    watched = tmp_path / "watched.conf"
    watched.write_text("original\n")

    home = tmp_path / "receiver-home"
    home.mkdir()
    receiver = await ReceiverProcess(
        home,
        {
            "grafana_url": GRAFANA,
            "channels": [
                {
                    "name": "mail",
                    "type": "email",
                    "host": "127.0.0.1",
                    "port": smtp_port,
                    "tls": "none",
                    "sender": "tocsin <alerts@tocsin.example>",
                    "to": ["oncall@tocsin.example"],
                },
                {
                    "name": "chat",
                    "type": "slack",
                    "webhook_url": slack.url + "/services/T000/B000/SECRET",
                },
            ],
            "default_route": {"channels": ["mail", "chat"]},
        },
    ).start()
    exporter_cfg = {
        "global": {"state_dir": str(tmp_path / "exporter-state")},
        "collectors": {
            "accesslog": {
                "enabled": True,
                "logs": [{"name": "app", "path": str(access_log), "format": "json"}],
            },
            "certificates": {"enabled": True, "paths": [str(cert)]},
            "fileintegrity": {
                "enabled": True,
                "paths": [str(watched)],
                "expected_sha256": {str(watched): hashlib.sha256(b"before\n").hexdigest()},
            },
        },
    }
    (tmp_path / "exporter.yml").write_text(yaml.safe_dump(exporter_cfg))
    am = await Alertmanager(
        require_binary("alertmanager"), tmp_path, receiver.url + "/webhook/alertmanager"
    ).start()
    shipped = yaml.safe_load(SHIPPED_PROMETHEUS.read_text())
    rules = rule_copy(tmp_path / "rules")
    prom_port = free_port()
    prom_proc: subprocess.Popen[bytes] | None = None
    try:
        with run_exporter([f"--config.file={tmp_path / 'exporter.yml'}"], tmp_path) as exporter:
            exporter_addr = f"127.0.0.1:{exporter.port}"
            prom_cfg = {
                "global": {
                    "scrape_interval": "1s",
                    "evaluation_interval": "1s",
                    "external_labels": {"cluster": "fault-test", "replica": "r1"},
                },
                "rule_files": [str(rules / "*.rules.yml")],
                "alerting": {
                    "alert_relabel_configs": shipped["alerting"]["alert_relabel_configs"],
                    "alertmanagers": [
                        {"static_configs": [{"targets": [am.url.removeprefix("http://")]}]}
                    ],
                },
                "scrape_configs": [
                    {
                        "job_name": "tocsin-exporter",
                        "static_configs": [{"targets": [exporter_addr]}],
                    }
                ],
            }
            (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(prom_cfg))
            prom_proc = start(
                prometheus_args(
                    prometheus, tmp_path / "prometheus.yml", tmp_path / "tsdb", prom_port
                ),
                tmp_path / "prometheus.log",
            )
            api = f"http://127.0.0.1:{prom_port}/api/v1"
            with access_log.open("a") as f:
                for i in range(5):
                    f.write(json.dumps({"method": "GET", "status": 200, "path": f"/{i}"}) + "\n")

            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:

                async def query(expr: str) -> list[dict[str, Any]]:
                    async with http.get(f"{api}/query", params={"query": expr}) as r:
                        body = await r.json()
                        assert body["status"] == "success", body
                        return list(body["data"]["result"])

                async def active(fault: str) -> set[str]:
                    """Alerts pending or firing in Prometheus, Host* left out (see above).
                    TocsinCollectorFailing counts only for the collector the fault is in
                    (`fault`): on this shared machine another collector can miss one
                    collection's deadline under load, which makes that alert pending."""
                    async with http.get(f"{api}/alerts") as r:
                        body = await r.json()
                    return {
                        a["labels"]["alertname"]
                        for a in body["data"]["alerts"]
                        if not a["labels"]["alertname"].startswith("Host")
                        and (
                            a["labels"]["alertname"] != "TocsinCollectorFailing"
                            or a["labels"].get("collector") == fault
                        )
                    }

                async def firing(name: str) -> bool:
                    async with http.get(f"{api}/alerts") as r:
                        body = await r.json()
                    return any(
                        a["labels"]["alertname"] == name and a["state"] == "firing"
                        for a in body["data"]["alerts"]
                    )

                async def series_present() -> bool:
                    try:
                        got = await query(
                            "tocsin_cert_read_errors_total == 0 and on () "
                            'count(tocsin_log_lines_total{outcome="parsed"}) > 0'
                        )
                    except aiohttp.ClientError:
                        return False
                    return bool(got)

                await wait_for(series_present, 60, interval=0.5, what="exporter series scraped")

                # 1. A shipped alert's email and Slack message: suggested fix and a link.
                fix = shipped_annotation("SecurityWatchedFileChanged", "suggested_fix")
                link = re.compile(
                    re.escape(GRAFANA)
                    + r"/d/(?P<uid>[a-z0-9-]+)/[a-z0-9-]+\?viewPanel=(?P<panel>\d+)"
                    + r"&var-cluster=fault-test&var-job=tocsin-exporter"
                    + r"&var-instance="
                    + re.escape(quote_plus(exporter_addr))
                )

                def mail_with_fix() -> EmailMessage | None:
                    for msg in box.messages():
                        body = msg.get_body(("plain",))
                        text = body.get_content() if body is not None else ""
                        if "SecurityWatchedFileChanged" in text and fix in text:
                            return msg
                    return None

                await wait_for(lambda: mail_with_fix() is not None, 60, what="email with fix")
                msg = mail_with_fix()
                assert msg is not None
                plain = msg.get_body(("plain",))
                assert plain is not None
                m = link.search(plain.get_content())
                assert m, plain.get_content()
                assert int(m["panel"]) in dashboard_panels()[m["uid"]]
                assert (m["uid"], m["panel"]) == ("tocsin-security-overview", "15")

                def slack_text() -> str:
                    """Every string in the Slack messages, Slack's escapes undone."""
                    out: list[str] = []
                    stack: list[Any] = [r.json for r in slack.requests]
                    while stack:
                        item = stack.pop()
                        if isinstance(item, str):
                            out.append(item)
                        elif isinstance(item, dict):
                            stack.extend(item.values())
                        elif isinstance(item, list):
                            stack.extend(item)
                    text = "\n".join(out)
                    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

                await wait_for(
                    lambda: fix in slack_text() and bool(link.search(slack_text())),
                    60,
                    what="Slack message with fix and link",
                )
                m = link.search(slack_text())
                assert m is not None
                assert (m["uid"], m["panel"]) == ("tocsin-security-overview", "15")

                # The alert as Alertmanager holds it: cluster kept, replica dropped.
                async with http.get(am.url + "/api/v2/alerts") as r:
                    held = await r.json()
                labels = next(
                    a["labels"]
                    for a in held
                    if a["labels"]["alertname"] == "SecurityWatchedFileChanged"
                )
                assert labels["cluster"] == "fault-test" and "replica" not in labels

                # 2. A certificate replaced by an unparsable file.
                before = await active("certificates")
                cert.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n")
                await wait_for(
                    lambda: firing("SecurityCertificateUnreadable"), 60, what="certificate alert"
                )
                assert await active("certificates") - before == {"SecurityCertificateUnreadable"}

                # 3. The access log switches to another format while lines keep arriving.
                before = await active("accesslog")
                stop = asyncio.Event()

                async def write_combined() -> None:
                    line = '192.0.2.1 - - [01/Dec/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 5\n'
                    while not stop.is_set():
                        with access_log.open("a") as f:
                            f.write(line * 20)
                        await asyncio.sleep(0.5)

                writer = asyncio.create_task(write_combined())
                try:
                    await wait_for(lambda: firing("AppLogFormatDrift"), 90, what="drift alert")
                    assert await active("accesslog") - before == {"AppLogFormatDrift"}
                finally:
                    stop.set()
                    await writer
    finally:
        if prom_proc is not None:
            stop_process(prom_proc)
        am.stop()
        receiver.stop()
