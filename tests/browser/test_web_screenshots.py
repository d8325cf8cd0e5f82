"""Screenshots of the incidents page at desktop and phone width, light and dark, with the
checks a keyboard user depends on. The receiver runs under a route prefix taken from
--web.external-url, as behind a proxy. They are written to the test's own directory, or,
with TOCSIN_UPDATE_SCREENSHOTS=1, into docs/screenshots/ (shown in the README): a plain
test run must not change the checkout."""

from __future__ import annotations

import json
import os
import struct
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.chrome import (
    DESKTOP,
    PHONE,
    TOKENS,
    chrome,
    incident,
    incident_id,
    post_webhook,
    sign_in,
    wait_live,
)
from tests.conftest import require_binary
from tests.integration.receiver_harness import ReceiverProcess
from tests.procs import REPO, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DOCS_SHOTS = REPO / "docs" / "screenshots"
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[ReceiverProcess]:
    require_binary("chromium")
    require_binary("chromedriver")
    port = free_port()
    tokens = [{"name": n, "roles": [r], "token": t} for n, (r, t) in TOKENS.items()]
    r = ReceiverProcess(
        tmp_path,
        {"auth": {"tokens": tokens}},
        port=port,
        args=[f"--web.external-url=http://127.0.0.1:{port}/tocsin/"],
    ).start_blocking()
    yield r
    r.stop()


def _seed(base: str) -> int:
    """A few incidents of each severity, one acknowledged; the id of a critical one."""
    examples = [
        ("NodeFilesystemAlmostFull", "critical", "Filesystem / on db1 has 2% space left"),
        ("HostHighCpuLoad", "warning", "CPU load on web3 is 14.2 for 10 minutes"),
        ("TocsinReceiverDeadLetters", "error", "3 notifications to slack dead-lettered"),
        ("HostClockSkew", "info", "Clock on cache2 drifts 0.4 s from NTP"),
        ("NodeMemoryPressure", "warning", "Memory available on api1 below 5%"),
    ]
    for name, severity, summary in examples:
        post_webhook(
            base,
            incident(
                name,
                severity,
                summary=summary,
                runbook_url=f"https://runbooks.example/{name}",
            ),
        )
    acked = incident_id(base, "HostHighCpuLoad")
    req = urllib.request.Request(
        f"{base}/api/v1/incidents/{acked}/ack",
        data=json.dumps({"comment": "scaling out"}).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {TOKENS['alice'][1]}",
            "Content-Type": "application/json",
        },
    )
    with _DIRECT.open(req, timeout=30) as r:
        assert r.status == 200
    return incident_id(base, "NodeFilesystemAlmostFull")


def _scheme(driver: webdriver.Chrome, scheme: str) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )


def _width(png: Path) -> int:
    """A PNG's width from its IHDR chunk."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int(struct.unpack(">I", data[16:20])[0])


def _keyboard_checks(driver: webdriver.Chrome) -> None:
    """The first Tab reaches the skip link; every control has a label (or aria-label)."""
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert driver.execute_script("return document.activeElement.textContent") == ("Skip to content")
    unlabelled = driver.execute_script(
        """return Array.from(document.querySelectorAll(
             'input:not([type=hidden]), select, textarea'))
           .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label'))
           .map((el) => el.name);"""
    )
    assert unlabelled == []


def test_screenshots_at_desktop_and_phone_width_light_and_dark(
    receiver: ReceiverProcess, tmp_path: Path
) -> None:
    base = receiver.url + "/tocsin"
    critical = _seed(receiver.url)
    update = os.environ.get("TOCSIN_UPDATE_SCREENSHOTS") == "1"
    shots = DOCS_SHOTS if update else tmp_path / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    for label, (width, height) in (("desktop", DESKTOP), ("phone", PHONE)):
        with chrome((width, height)) as driver:
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {
                    "width": width,
                    "height": height,
                    "deviceScaleFactor": 1,
                    "mobile": label == "phone",
                },
            )
            sign_in(driver, base, "alice")
            assert driver.current_url.startswith(base + "/")
            wait_live(driver)
            _keyboard_checks(driver)
            for scheme in ("light", "dark"):
                _scheme(driver, scheme)
                driver.get(base + "/?state=firing&sort=severity")
                wait_live(driver)
                rows = driver.find_elements(By.CSS_SELECTOR, "#rows tr[data-id]")
                assert len(rows) == 4
                path = shots / f"list-{label}-{scheme}.png"
                driver.save_screenshot(str(path))
                assert _width(path) == width
                driver.get(f"{base}/incidents/{critical}")
                assert driver.find_element(By.LINK_TEXT, "Runbook")
                path = shots / f"detail-{label}-{scheme}.png"
                driver.save_screenshot(str(path))
                assert _width(path) == width
            # At phone width nothing is wider than the screen (no sideways scrolling).
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0
