"""Headless Chromium from Debian driven by selenium through the system chromedriver
(nothing is downloaded), and the steps the page tests share: a receiver with tokens of
every role, signing in, waiting for what the page's script does."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from tests.conftest import require_binary
from tests.integration.receiver_harness import ReceiverProcess, am_alert, am_payload

TOKENS = {
    "am": ("ingest", "ingest-secret-0123"),
    "alice": ("operator", "alice-secret-0123"),
    "vic": ("viewer", "viewer-secret-0123"),
    "root": ("admin", "admin-secret-0123"),
}
DESKTOP = (1280, 900)
PHONE = (390, 844)
# Straight to 127.0.0.1, whatever http_proxy says.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def receiver_config(**extra: Any) -> dict[str, Any]:
    """A receiver config with one token per role (names as in TOKENS)."""
    tokens = [{"name": n, "roles": [r], "token": t} for n, (r, t) in TOKENS.items()]
    return {"auth": {"tokens": tokens}, **extra}


def start_receiver(tmp: Path, *args: str, **extra: Any) -> ReceiverProcess:
    """The receiver as a subprocess with TOKENS configured, ready."""
    return ReceiverProcess(tmp, receiver_config(**extra), args=args).start_blocking()


@contextmanager
def chrome(size: tuple[int, int] = DESKTOP) -> Iterator[webdriver.Chrome]:
    """A headless Chromium window of `size`; quit afterwards."""
    options = Options()
    options.binary_location = require_binary("chromium")
    for arg in (
        "--headless=new",
        "--no-sandbox",  # Chromium refuses to start as root with its sandbox
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-proxy-server",
        "--no-first-run",
        f"--window-size={size[0]},{size[1]}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(require_binary("chromedriver")), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def sign_in(driver: webdriver.Chrome, base: str, name: str, path: str = "/") -> None:
    """Sign in through the page's form as the token `name`, landing on `path`."""
    driver.get(f"{base}/signin?next={urllib.request.quote(path, safe='')}")
    driver.find_element(By.ID, "token").send_keys(TOKENS[name][1])
    driver.find_element(By.CSS_SELECTOR, "form.signin button").click()
    wait_until(lambda: "/signin" not in driver.current_url, what=f"{name} signed in")


def wait_until(check: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = check()
        except Exception:  # an element not there yet, a page mid-navigation
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def wait_live(driver: webdriver.Chrome) -> None:
    """Wait until the page's event stream is open."""
    wait_until(
        lambda: driver.find_element(By.ID, "live-status").get_attribute("data-state") == "open",
        what="the live stream to open",
    )


def post_webhook(base: str, payload: dict[str, Any]) -> None:
    """POST an Alertmanager payload with the ingest token (blocking)."""
    req = urllib.request.Request(
        base + "/webhook/alertmanager",
        data=json.dumps(payload).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {TOKENS['am'][1]}",
        },
    )
    with _DIRECT.open(req, timeout=30) as r:
        assert r.status == 200, r.read()


def incident(group: str, severity: str = "warning", **annotations: str) -> dict[str, Any]:
    """A one-alert firing payload for `group`."""
    alert = am_alert(f"fp-{group}", alertname=group, group=group, severity=severity)
    alert["annotations"].update(annotations)
    payload = am_payload(
        group, [alert], common={"group": group, "alertname": group, "severity": severity}
    )
    payload["commonAnnotations"] = dict(alert["annotations"])
    return payload


def api(base: str, path: str, name: str) -> Any:
    """GET a JSON API path as the token `name` (blocking)."""
    req = urllib.request.Request(
        base + path, headers={"Authorization": f"Bearer {TOKENS[name][1]}"}
    )
    with _DIRECT.open(req, timeout=30) as r:
        return json.loads(r.read())


def incident_id(base: str, group: str) -> int:
    """The id of the newest incident of `group`, once the receiver has it."""

    def look() -> int | None:
        doc = api(base, f'/api/v1/incidents?match=group="{group}"&limit=1', "root")
        return doc["incidents"][0]["id"] if doc["incidents"] else None

    found: int = wait_until(look, what=f"incident {group}")
    return found


def mark_page(driver: webdriver.Chrome) -> None:
    """Set a window global that a reload would lose (see `was_not_reloaded`)."""
    driver.execute_script("window.__sameDocument = 'yes';")


def was_not_reloaded(driver: webdriver.Chrome) -> bool:
    """Whether the page set by `mark_page` is still the same document."""
    return bool(driver.execute_script("return window.__sameDocument === 'yes';"))


def api_action(base: str, incident: int, action: str, name: str) -> None:
    """POST an incident action (ack, unack, resolve) to the JSON API as the token `name`."""
    req = urllib.request.Request(
        f"{base}/api/v1/incidents/{incident}/{action}",
        data=b"{}",
        method="POST",
        headers={
            "Authorization": f"Bearer {TOKENS[name][1]}",
            "Content-Type": "application/json",
        },
    )
    with _DIRECT.open(req, timeout=30) as r:
        assert r.status == 200
