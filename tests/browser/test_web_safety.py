"""The incidents page's safety, checked in real headless Chromium: CSRF tokens, roles in
the page and on the server, and alert text that must stay inert."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.browser.chrome import (
    api,
    chrome,
    incident,
    incident_id,
    post_webhook,
    sign_in,
    start_receiver,
)
from tests.conftest import require_binary
from tests.integration.receiver_harness import ReceiverProcess
from tests.procs import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

_POST = """
const [url, body, done] = arguments;
fetch(url, {method: "POST", body: body, redirect: "manual",
            headers: {"Content-Type": "application/x-www-form-urlencoded"}})
  .then(async (r) => done({status: r.status, type: r.type, text: await r.text()}))
  .catch((e) => done({error: String(e)}));
"""


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[ReceiverProcess]:
    require_binary("chromium")
    require_binary("chromedriver")
    r = start_receiver(tmp_path)
    yield r
    r.stop()


def _post(driver: webdriver.Chrome, url: str, body: str) -> dict[str, Any]:
    """A form POST sent by the page itself (its cookies go along), and its answer."""
    result: dict[str, Any] = driver.execute_async_script(_POST, url, body)
    return result


def _csrf(driver: webdriver.Chrome) -> str:
    field = driver.find_element(By.CSS_SELECTOR, "form[action$='/signout'] input[name=csrf]")
    return str(field.get_attribute("value"))


def test_a_post_without_the_csrf_token_is_refused(receiver: ReceiverProcess) -> None:
    post_webhook(receiver.url, incident("NoCsrf"))
    iid = incident_id(receiver.url, "NoCsrf")
    with chrome() as driver:
        sign_in(driver, receiver.url, "alice", f"/incidents/{iid}")
        url = f"{receiver.url}/incidents/{iid}/ack"
        missing = _post(driver, url, "comment=forged")
        assert missing["status"] == 403, missing
        assert '"field": "csrf"' in missing["text"]
        wrong = _post(driver, url, "comment=forged&csrf=not-the-token")
        assert wrong["status"] == 403, wrong
        assert api(receiver.url, f"/api/v1/incidents/{iid}", "root")["state"] == "firing"
        # The same request with the session's token goes through (an opaque redirect).
        right = _post(driver, url, f"comment=ok&csrf={_csrf(driver)}")
        assert right["type"] == "opaqueredirect", right
        assert api(receiver.url, f"/api/v1/incidents/{iid}", "root")["state"] == "acknowledged"


def test_a_viewer_sees_no_actions_and_a_forged_post_is_refused(receiver: ReceiverProcess) -> None:
    post_webhook(receiver.url, incident("ViewOnly"))
    iid = incident_id(receiver.url, "ViewOnly")
    with chrome() as driver:
        sign_in(driver, receiver.url, "vic", f"/incidents/{iid}")
        assert driver.find_elements(By.CSS_SELECTOR, "form.actions") == []
        buttons = [b.text for b in driver.find_elements(By.TAG_NAME, "button")]
        assert buttons == ["Sign out"]
        assert driver.find_elements(By.LINK_TEXT, "Admin") == []
        token = _csrf(driver)
        for action in ("ack", "resolve"):
            forged = _post(driver, f"{receiver.url}/incidents/{iid}/{action}", f"csrf={token}")
            assert forged["status"] == 403, forged
            assert "lacks the 'operator' role" in forged["text"]
        replay = _post(driver, f"{receiver.url}/deadletters/1/replay", f"csrf={token}")
        assert replay["status"] == 403, replay
        driver.get(receiver.url + "/")
        assert driver.find_elements(By.CSS_SELECTOR, "input[type=checkbox], form#bulk") == []
        bulk = _post(driver, f"{receiver.url}/bulk", f"csrf={token}&action=ack&id={iid}")
        assert bulk["status"] == 403, bulk
        driver.get(receiver.url + "/admin")
        assert "lacks the 'admin' role" in driver.page_source
    assert api(receiver.url, f"/api/v1/incidents/{iid}", "root")["state"] == "firing"
    with chrome() as driver:
        sign_in(driver, receiver.url, "root", f"/incidents/{iid}")
        assert driver.find_element(By.XPATH, "//button[text()='Acknowledge']")
        assert driver.find_element(By.LINK_TEXT, "Admin")


class _Sink:
    """Counts every request: what a payload that ran would have called."""

    def __init__(self) -> None:
        self.port = free_port()
        self.hits: list[str] = []

    async def __aenter__(self) -> _Sink:
        async def hit(request: web.Request) -> web.Response:
            self.hits.append(request.path_qs)
            return web.Response(text="")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", hit)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._runner.cleanup()


async def test_hostile_labels_and_annotations_render_inert(receiver: ReceiverProcess) -> None:
    async with _Sink() as sink:
        beacon = f"http://127.0.0.1:{sink.port}/ran"
        payload = incident(
            "Xss",
            summary=f"<script>window.__xss = 1; fetch('{beacon}?script')</script>",
            description=f"<img src=x onerror=\"window.__xss = 2; fetch('{beacon}?img')\">",
            runbook_url=f"javascript:window.__xss=3;fetch('{beacon}?runbook')",
            dashboard_url="JaVaScRiPt:window.__xss=4",
            link=f" javascript:fetch('{beacon}?link')",
        )
        labels = payload["alerts"][0]["labels"]
        labels["instance"] = f'"><svg onload="window.__xss=5;fetch(\'{beacon}?svg\')">'
        payload["commonLabels"]["instance"] = labels["instance"]
        await asyncio.to_thread(post_webhook, receiver.url, payload)
        iid = await asyncio.to_thread(incident_id, receiver.url, "Xss")

        def look() -> list[dict[str, Any]]:
            seen = []
            with chrome() as driver:
                sign_in(driver, receiver.url, "alice")
                for path in ("/", f"/incidents/{iid}"):
                    driver.get(receiver.url + path)
                    seen.append(
                        driver.execute_script(
                            """return {
                              xss: window.__xss === undefined ? null : window.__xss,
                              scripts: document.scripts.length,
                              handlers: document.querySelectorAll(
                                '[onerror],[onload],img,svg,iframe,object').length,
                              jsLinks: Array.from(document.querySelectorAll('a[href]'))
                                .filter((a) => a.protocol !== 'http:' &&
                                               a.protocol !== 'https:').length,
                              text: document.body.innerText,
                            };"""
                        )
                    )
            return seen

        seen = await asyncio.to_thread(look)
        await asyncio.sleep(1)  # a beacon that did fire has time to arrive
        assert sink.hits == []
    for page in seen:
        assert page["xss"] is None, page
    listing, detail = seen
    for page in seen:
        assert page["scripts"] == 1, page  # app.js, nothing else
        assert page["handlers"] == 0, page
        assert page["jsLinks"] == 0, page
    assert "<script>window.__xss = 1;" in listing["text"]  # shown as text
    assert "javascript:window.__xss=3" in detail["text"]
    assert '"><svg onload=' in detail["text"]
