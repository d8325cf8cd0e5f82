"""Proof on a running stack: a real Prometheus 2.42 with every rule in rules/ scrapes a real
exporter and receiver (and a real Alertmanager); every rule is healthy; every dashboard query
returns data; an alert from rules/ travels Prometheus → Alertmanager → receiver → sink.

The exporter is configured so a healthy test host produces the application and security
series too: an access log and an auth log written by the test, a TLS server and an HTTP
endpoint to probe, a process group, a certificate, watched files and a textfile directory.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from dashboards import generate
from tests.conftest import require_binary, self_signed_cert
from tests.integration.receiver_harness import Alertmanager, ReceiverProcess, Sink, wait_for
from tests.procs import REPO, free_port, prometheus_args, run_exporter, start, stop_process

pytestmark = pytest.mark.integration


# Dashboard queries allowed to return no data on a healthy test stack, each with the reason.
NO_DATA_ALLOWED = {
    "tocsin_receiver_template_errors_total": "only exists after a user template fails",
    "tocsin_receiver_digests_total": "only exists after a rate limit or storm folds messages",
    "tocsin_exporter_label_overflow_total": "only exists once a label hits its cardinality cap",
    "tocsin_receiver_webhook_processing_errors_total": "only exists after a webhook fails",
}
# Host panels whose source this test host may lack, each with the reason: the query returns
# data where the hardware or service exists (the collectors' own tests cover the values).
NO_SOURCE_ALLOWED = {
    "node_hwmon_temp": "no hwmon sensors in a container or VM",
    "node_md_": "no software RAID (md) arrays on the test host",
    "node_edac_": "no EDAC memory controllers in a container or VM",
    "node_systemd_unit_state": "no systemd on the system bus in a test container",
    "node_nf_conntrack_": "nf_conntrack is loaded only where a firewall or NAT uses it",
    "_utilisation:ratio_rate5m": "virtual interfaces report no link speed "
    "(node_network_speed_bytes absent or -1)",
}


def allowed_empty(expr: str) -> bool:
    """Whether a query may return nothing on this stack (see the two tables above)."""
    return any(m in expr for m in (*NO_DATA_ALLOWED, *NO_SOURCE_ALLOWED))


def substitute(expr: str) -> str:
    """The query as Grafana sends it with All selected."""
    values = {"$__rate_interval": "1m", "$cluster": ".*", "$job": ".*", "$instance": ".*"}
    for var, value in values.items():
        expr = expr.replace(var, value)
    return expr


# Dashboards whose data this stack does not make, each with the reason and its own test.
ELSEWHERE = {
    "forecast.json": "needs the forecast collector and days of history: "
    "tests/integration/test_forecast_prometheus.py runs its queries",
}


def dashboard_queries() -> list[tuple[str, str, str]]:
    """(dashboard, panel title, expr) for every target of every dashboard."""
    out = []
    for name, text in generate.generate().items():
        if name in ELSEWHERE:
            continue
        dash = json.loads(text)
        for panel in dash["panels"]:
            for target in panel.get("targets", []):
                out.append((name, panel["title"], target["expr"]))
    return out


async def tls_server(cert: Path, key: Path) -> tuple[asyncio.Server, int]:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    port = free_port()
    server = await asyncio.start_server(handle, "127.0.0.1", port, ssl=ctx)
    return server, port


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    s = await Sink().start()
    yield s
    await s.stop()


async def prom_get(session: aiohttp.ClientSession, url: str, **params: str) -> Any:
    async with session.get(url, params=params) as resp:
        body = await resp.json()
        assert resp.status == 200, body
        assert body["status"] == "success", body
        return body["data"]


async def test_rules_dashboards_and_an_alert_on_a_running_stack(tmp_path: Path, sink: Sink) -> None:
    prometheus = require_binary("prometheus")
    alertmanager_bin = require_binary("alertmanager")

    # Inputs for the application and security collectors.
    cert_dir = tmp_path / "certs"
    cert_dir.mkdir()
    cert, key = self_signed_cert(cert_dir, "stack.example")
    server, tls_port = await tls_server(cert, key)
    access_log = tmp_path / "access.log"
    auth_log = tmp_path / "auth.log"
    access_log.write_text("")
    auth_log.write_text("")
    watched = tmp_path / "watched.conf"
    watched.write_text("original\n")
    textfile = tmp_path / "textfile"
    textfile.mkdir()
    (textfile / "job.prom").write_text("stack_test_job_success 1\n")

    receiver_home = tmp_path / "receiver-home"
    receiver_home.mkdir()
    receiver = await ReceiverProcess(
        receiver_home,
        {
            "channels": [{"name": "sink", "type": "webhook", "url": sink.url}],
            "default_route": {"channels": ["sink"]},
        },
    ).start()
    exporter_cfg = {
        "global": {"state_dir": str(tmp_path / "exporter-state")},
        "collectors": {
            "accesslog": {
                "enabled": True,
                "logs": [{"name": "app", "path": str(access_log), "format": "json"}],
            },
            "authlog": {"enabled": True, "path": str(auth_log)},
            "probes": {
                "enabled": True,
                "probes": [
                    {
                        "name": "receiver",
                        "type": "http",
                        "target": f"{receiver.url}/-/healthy",
                        "interval": "1s",
                    },
                    {
                        "name": "tls",
                        "type": "tls",
                        "target": f"127.0.0.1:{tls_port}",
                        "interval": "1s",
                        "tls": {"verify": False},
                    },
                ],
            },
            "processes": {
                "enabled": True,
                "interval": "1s",
                "groups": [{"name": "python", "comm": "^python"}],
            },
            "certificates": {"enabled": True, "paths": [str(cert)]},
            "fileintegrity": {
                "enabled": True,
                "paths": [str(watched)],
                # A baseline that differs from the file: SecurityWatchedFileChanged fires at
                # once (it is a no-`for` alert), which is the alert this test follows.
                "expected_sha256": {str(watched): hashlib.sha256(b"before\n").hexdigest()},
            },
            "listeners": {"enabled": True, "allowlist": [{"port": 22}]},
            "textfile": {"enabled": True, "directory": str(textfile)},
        },
    }
    exporter_yml = tmp_path / "exporter.yml"
    exporter_yml.write_text(yaml.safe_dump(exporter_cfg))

    am = await Alertmanager(
        alertmanager_bin, tmp_path, receiver.url + "/webhook/alertmanager"
    ).start()
    prom_port = free_port()
    prom_proc: subprocess.Popen[bytes] | None = None
    try:
        with run_exporter([f"--config.file={exporter_yml}"], tmp_path) as exporter:
            exporter_addr = f"127.0.0.1:{exporter.port}"
            prom_cfg = {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(REPO / "rules" / "*.rules.yml")],
                "alerting": {
                    "alertmanagers": [
                        {"static_configs": [{"targets": [am.url.removeprefix("http://")]}]}
                    ]
                },
                "scrape_configs": [
                    {"job_name": name, "static_configs": [{"targets": [target]}]}
                    for name, target in (
                        ("prometheus", f"127.0.0.1:{prom_port}"),
                        ("tocsin-exporter", exporter_addr),
                        ("tocsin-receiver", receiver.url.removeprefix("http://")),
                        ("alertmanager", am.url.removeprefix("http://")),
                    )
                ],
            }
            (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(prom_cfg))
            prom_args = prometheus_args(
                prometheus, tmp_path / "prometheus.yml", tmp_path / "tsdb", prom_port
            )
            prom_proc = start(prom_args, tmp_path / "prometheus.log")
            api = f"http://127.0.0.1:{prom_port}/api/v1"

            # Events the dashboards show: requests with a duration, auth failures, sudo.
            with access_log.open("a") as f:
                for i in range(50):
                    code = 500 if i % 10 == 0 else 200
                    line = {
                        "method": "GET",
                        "status": code,
                        "path": f"/items/{i}",
                        "body_bytes_sent": 512,
                        "request_time": 0.05 + i / 1000,
                    }
                    f.write(json.dumps(line) + "\n")
            with auth_log.open("a") as f:
                for i in range(5):
                    f.write(
                        f"Jan  1 00:00:0{i} host sshd[100{i}]: Failed password for root from "
                        f"192.0.2.{i} port 2222 ssh2\n"
                    )
                f.write(
                    "Jan  1 00:00:09 host sudo: pam_unix(sudo:auth): authentication failure; "
                    "logname=u uid=1000 euid=0 tty=/dev/pts/0 ruser=u rhost=  user=u\n"
                )

            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:

                async def ready() -> bool:
                    try:
                        data = await prom_get(http, f"{api}/query", query="up")
                    except (aiohttp.ClientError, AssertionError):
                        return False
                    ups = {r["metric"]["job"]: r["value"][1] for r in data["result"]}
                    return len(ups) == 4 and set(ups.values()) == {"1"}

                await wait_for(ready, 60, interval=0.5, what="all four targets up")

                # 1. Every rule is loaded and healthy once it has been evaluated.
                async def rules_evaluated() -> bool:
                    data = await prom_get(http, f"{api}/rules")
                    rules = [r for g in data["groups"] for r in g["rules"]]
                    return bool(rules) and all(
                        not r["lastEvaluation"].startswith("0001") for r in rules
                    )

                await wait_for(rules_evaluated, 60, interval=0.5, what="every rule evaluated")
                data = await prom_get(http, f"{api}/rules")
                rules = [r for g in data["groups"] for r in g["rules"]]
                expected = sum(
                    len(g["rules"])
                    for p in (REPO / "rules").glob("*.rules.yml")
                    for g in yaml.safe_load(p.read_text())["groups"]
                )
                assert len(rules) == expected
                unhealthy = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
                assert unhealthy == []

                # 2. One alert from rules/ arrives at the sink via Alertmanager and receiver.
                await wait_for(
                    lambda: any(
                        a["labels"].get("alertname") == "SecurityWatchedFileChanged"
                        for r in sink.received
                        for a in r.body["incident"]["alerts"]
                    ),
                    60,
                    interval=0.2,
                    what="SecurityWatchedFileChanged at the sink",
                )
                got = next(
                    a
                    for r in sink.received
                    for a in r.body["incident"]["alerts"]
                    if a["labels"]["alertname"] == "SecurityWatchedFileChanged"
                )
                assert got["labels"]["path"] == str(watched)
                assert got["labels"]["severity"] == "warning"
                assert got["annotations"]["runbook_url"].endswith("#securitywatchedfilechanged")

                # Acknowledged and resolved by hand: the MTTA and MTTR panels get data.
                incident_id = next(
                    r.body["incident"]["id"]
                    for r in sink.received
                    for a in r.body["incident"]["alerts"]
                    if a["labels"]["alertname"] == "SecurityWatchedFileChanged"
                )
                for action in ("ack", "resolve"):
                    path = f"/api/v1/incidents/{incident_id}/{action}"
                    status, doc = await receiver.api("POST", path, body={})
                    assert status == 200, doc

                async def response_times_scraped() -> bool:
                    counts = []
                    for kind in ("acknowledge", "resolve"):
                        name = f"tocsin_receiver_time_to_{kind}_seconds_count"
                        found = await prom_get(http, f"{api}/query", query=f"sum({name})")
                        counts += [r["value"][1] for r in found["result"]]
                    return counts == ["1", "1"]

                await wait_for(response_times_scraped, 30, interval=0.5, what="MTTA/MTTR scraped")

                # The route's series existed at zero, so the recorded quantile sees the ack (the
                # other severities' quantiles are NaN: no increase in their buckets).
                async def mtta_recorded() -> bool:
                    record = "cluster_severity:tocsin_receiver_time_to_acknowledge_seconds:p50_1d"
                    found = await prom_get(
                        http, f"{api}/query", query=record + '{severity="warning"}'
                    )
                    values = [float(r["value"][1]) for r in found["result"]]
                    return len(values) == 1 and 0 < values[0] <= 30

                await wait_for(mtta_recorded, 30, interval=0.5, what="MTTA p50 recorded")

                # 3. Every dashboard query runs and returns data (rates need two samples
                # inside the 1m window, so poll a little).
                queries = dashboard_queries()
                assert len(queries) >= 60

                async def empty_queries() -> list[tuple[str, str, str]]:
                    empty = []
                    for dash, title, expr in queries:
                        result = await prom_get(http, f"{api}/query", query=substitute(expr))
                        if not result["result"]:
                            empty.append((dash, title, expr))
                    return empty

                empty: list[tuple[str, str, str]] = []

                async def all_have_data() -> bool:
                    nonlocal empty
                    empty = [q for q in await empty_queries() if not allowed_empty(q[2])]
                    return not empty

                try:
                    await wait_for(all_have_data, 45, interval=1, what="dashboard data")
                except AssertionError:
                    pytest.fail("dashboard queries without data:\n" + "\n".join(map(str, empty)))
    finally:
        if prom_proc is not None:
            stop_process(prom_proc)
        am.stop()
        receiver.stop()
        server.close()
        await server.wait_closed()
