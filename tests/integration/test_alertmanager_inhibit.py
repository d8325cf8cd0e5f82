"""The shipped inhibit rules in a real Alertmanager: one cause, one page.

Alertmanager runs with deploy/alertmanager/alertmanager.yml's route and inhibit rules
verbatim (only the receiver is swapped for one with no integration, so nothing is sent).
For each cause the test posts every alert the cause raises for one target in cluster "a",
each secondary alert alone for the same instance name in a cluster of its own, an
unrelated alert on the same target and TocsinWatchdog, then reads /api/v2/alerts: exactly
the cause's secondary alerts in cluster "a" are inhibited.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import require_binary
from tests.procs import free_port, start, stop_process, wait_ready

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "deploy" / "alertmanager" / "alertmanager.yml"
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def severities() -> dict[str, str]:
    """Alert name → severity, from the shipped rule files (so the test follows the rules)."""
    out: dict[str, str] = {}
    for path in (REPO / "rules").glob("*.rules.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    out[rule["alert"]] = rule["labels"]["severity"]
    return out


# cause → (target labels, the alert that pages, the secondary alerts it must mute)
CAUSES: dict[str, tuple[dict[str, str], str, list[str]]] = {
    "dead probe": (
        {"job": "tocsin-exporter", "instance": "h1:9877", "probe": "web"},
        "SloProbeBurnRateFast",
        ["AppProbeFailing", "SloProbeBurnRateMedium", "SloProbeBurnRateSlow"],
    ),
    "5xx spike": (
        {"job": "tocsin-exporter", "instance": "h1:9877", "log": "app"},
        "SloHttpBurnRateFast",
        ["AppHttp5xxRatioHigh", "AnomalyErrorRatio", "SloHttpBurnRateMedium"],
    ),
    "filling disk": (
        {"job": "node", "instance": "h1:9100", "device": "/dev/sda1", "mountpoint": "/"},
        "HostFilesystemWillFillIn4h",
        ["HostFilesystemAlmostFull", "HostFilesystemWillFillIn24h"],
    ),
    "clock not synchronised": (
        {"job": "node", "instance": "h1:9100"},
        "HostClockNotSynchronising",
        ["HostClockOffsetLarge", "HostClockSkew"],
    ),
    "degraded array": (
        {"job": "node", "instance": "h1:9100", "device": "md0"},
        "HostRaidArrayDegraded",
        ["HostRaidDiskFailed"],
    ),
    "uncorrectable memory": (
        {"job": "node", "instance": "h1:9100", "controller": "0"},
        "HostMemoryEccUncorrectable",
        ["HostMemoryEccCorrectable"],
    ),
    "stuck webhooks": (
        {"job": "tocsin-receiver", "instance": "r1:9878"},
        "TocsinReceiverWebhookProcessingFailed",
        ["TocsinReceiverWebhookProcessingErrors"],
    ),
}
# An alert on the same target that no cause explains: never muted by these rules.
UNRELATED = "HostCpuSaturated"


class RealAlertmanager:
    """prometheus-alertmanager on the shipped config, clustering off."""

    def __init__(self, binary: str, tmp: Path) -> None:
        cfg = yaml.safe_load(SHIPPED.read_text())
        cfg["receivers"] = [{"name": r["name"]} for r in cfg["receivers"]]
        self.config = tmp / "alertmanager.yml"
        self.config.write_text(yaml.safe_dump(cfg))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "am.log"
        self.proc = start(
            [
                binary,
                f"--config.file={self.config}",
                f"--storage.path={tmp}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
            ],
            self.log,
        )
        wait_ready(self.proc, self.url, self.log, "alertmanager")

    def post(self, alerts: list[dict[str, Any]]) -> None:
        req = urllib.request.Request(
            self.url + "/api/v2/alerts",
            data=json.dumps(alerts).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with _DIRECT.open(req, timeout=10) as r:
            assert r.status == 200

    def alerts(self) -> list[dict[str, Any]]:
        with _DIRECT.open(self.url + "/api/v2/alerts", timeout=10) as r:
            body: list[dict[str, Any]] = json.loads(r.read())
            return body


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealAlertmanager]:
    am = RealAlertmanager(require_binary("alertmanager"), tmp_path_factory.mktemp("am"))
    yield am
    stop_process(am.proc)


def test_shipped_config_passes_amtool() -> None:
    result = subprocess.run(
        [require_binary("amtool"), "check-config", str(SHIPPED)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "14 inhibit rules" in result.stdout


def alert(name: str, labels: dict[str, str], severity: dict[str, str]) -> dict[str, Any]:
    return {"labels": {"alertname": name, "severity": severity[name], **labels}}


@pytest.mark.parametrize("cause", sorted(CAUSES))
def test_one_cause_pages_once(alertmanager: RealAlertmanager, cause: str) -> None:
    target, pager, secondary = CAUSES[cause]
    severity = severities()
    assert {pager, *secondary, UNRELATED} <= set(severity), "the test names unknown alerts"
    tag = cause.replace(" ", "-")
    here = {**target, "cluster": f"{tag}-a"}
    posted = (
        [alert(pager, here, severity), alert(UNRELATED, here, severity)]
        + [alert(name, here, severity) for name in secondary]
        # Each secondary alone in a cluster of its own with the same instance name.
        + [
            alert(name, {**target, "cluster": f"{tag}-b{i}"}, severity)
            for i, name in enumerate(secondary)
        ]
        + [alert("TocsinWatchdog", {"cluster": f"{tag}-a"}, severity)]
    )
    alertmanager.post(posted)

    def mine() -> list[dict[str, Any]]:
        return [a for a in alertmanager.alerts() if a["labels"].get("cluster", "").startswith(tag)]

    deadline = time.monotonic() + 10
    while len(mine()) < len(posted) and time.monotonic() < deadline:
        time.sleep(0.1)
    got = mine()
    assert len(got) == len(posted)
    inhibited = {
        (a["labels"]["alertname"], a["labels"]["cluster"])
        for a in got
        if a["status"]["inhibitedBy"]
    }
    assert inhibited == {(name, f"{tag}-a") for name in secondary}
    for a in got:
        if a["status"]["inhibitedBy"]:
            assert a["status"]["state"] == "suppressed"
        else:
            assert a["status"]["state"] == "active", a["labels"]
