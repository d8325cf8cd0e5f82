"""The incidents page in real headless Chromium: live updates through the event stream."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from selenium.webdriver.common.by import By

from tests.browser.chrome import (
    TOKENS,
    api,
    api_action,
    chrome,
    incident,
    incident_id,
    mark_page,
    post_webhook,
    sign_in,
    start_receiver,
    wait_live,
    wait_until,
    was_not_reloaded,
)
from tests.conftest import require_binary
from tests.integration.receiver_harness import Alertmanager, ReceiverProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[ReceiverProcess]:
    require_binary("chromium")
    require_binary("chromedriver")
    r = start_receiver(tmp_path)
    yield r
    r.stop()


def _with_ingest_token(am: Alertmanager) -> Alertmanager:
    """The harness's Alertmanager, sending the ingest token as a bearer token."""
    doc = yaml.safe_load(am.config.read_text())
    for hook in doc["receivers"][0]["webhook_configs"]:
        hook["http_config"] = {"authorization": {"credentials": TOKENS["am"][1]}}
    am.config.write_text(yaml.safe_dump(doc))
    return am


async def test_an_alert_through_alertmanager_appears_in_the_open_list(
    tmp_path: Path, receiver: ReceiverProcess
) -> None:
    am = Alertmanager(
        require_binary("alertmanager"), tmp_path, receiver.url + "/webhook/alertmanager"
    )
    await _with_ingest_token(am).start()
    try:
        with chrome() as driver:
            sign_in(driver, receiver.url, "vic")
            wait_live(driver)
            mark_page(driver)
            assert driver.find_element(By.CSS_SELECTOR, '[data-count="firing"]').text == "0"
            starts = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            await am.post_alerts(
                [
                    {
                        "labels": {"alertname": "DiskFull", "group": "DiskFull",
                                   "severity": "critical", "instance": "db1"},
                        "annotations": {"summary": "disk of db1 is full"},
                        "startsAt": starts,
                    }
                ]
            )  # fmt: skip
            row = wait_until(
                lambda: driver.find_element(By.CSS_SELECTOR, "#rows tr[data-id]"),
                what="the incident's row in the open list",
            )
            assert "DiskFull" in row.text and "disk of db1 is full" in row.text
            assert row.find_element(By.CSS_SELECTOR, ".badge").text.lower() == "critical"
            wait_until(
                lambda: driver.find_element(By.CSS_SELECTOR, '[data-count="firing"]').text == "1",
                what="the firing count to go to 1",
            )
            assert driver.find_element(By.ID, "unread").text == "1"
            # Resolved elsewhere (through the API), it leaves the firing list live.
            api_action(receiver.url, int(str(row.get_attribute("data-id"))), "resolve", "alice")
            wait_until(
                lambda: driver.find_elements(By.CSS_SELECTOR, "#rows tr[data-id]") == [],
                what="the resolved incident to leave the firing list",
            )
            wait_until(
                lambda: driver.find_element(By.CSS_SELECTOR, '[data-count="resolved"]').text == "1",
                what="the resolved count to go to 1",
            )
            assert was_not_reloaded(driver)
    finally:
        am.stop()


def test_an_ack_in_one_session_appears_live_in_another(receiver: ReceiverProcess) -> None:
    post_webhook(receiver.url, incident("CpuHot", "warning"))
    iid = incident_id(receiver.url, "CpuHot")
    with chrome() as operator, chrome() as watcher:
        sign_in(watcher, receiver.url, "vic", "/?state=acknowledged")
        wait_live(watcher)
        mark_page(watcher)
        assert watcher.find_elements(By.CSS_SELECTOR, "#rows tr[data-id]") == []

        sign_in(operator, receiver.url, "alice", f"/incidents/{iid}")
        operator.find_element(By.ID, "comment").send_keys("looking at it")
        operator.find_element(By.XPATH, "//button[text()='Acknowledge']").click()
        wait_until(
            lambda: "by alice" in operator.find_element(By.CSS_SELECTOR, ".facts").text,
            what="the operator's page to show the ack",
        )

        row = wait_until(
            lambda: watcher.find_element(By.ID, f"incident-{iid}"),
            what="the acked incident in the second session's acknowledged tab",
        )
        assert "by alice" in row.text
        wait_until(
            lambda: (
                watcher.find_element(By.CSS_SELECTOR, '[data-count="acknowledged"]').text == "1"
            ),
            what="the acknowledged count to go to 1",
        )
        assert watcher.find_element(By.CSS_SELECTOR, '[data-count="firing"]').text == "0"
        assert was_not_reloaded(watcher)


def test_the_list_reconnects_after_a_receiver_restart(receiver: ReceiverProcess) -> None:
    with chrome() as driver:
        sign_in(driver, receiver.url, "vic")
        wait_live(driver)
        mark_page(driver)
        # One event first, so the stream has an id to resume from after the restart.
        post_webhook(receiver.url, incident("BeforeRestart"))
        wait_until(
            lambda: driver.find_element(By.CSS_SELECTOR, "#rows tr[data-id]"),
            what="a row before the restart",
        )
        assert not driver.find_element(By.ID, "stale").is_displayed()
        receiver.stop()
        wait_until(
            lambda: (
                driver.find_element(By.ID, "live-status").get_attribute("data-state") == "error"
            ),
            what="the page to notice the receiver went away",
        )
        receiver.start_blocking()
        wait_live(driver)
        post_webhook(receiver.url, incident("AfterRestart", "critical"))
        row = wait_until(
            lambda: next(
                r
                for r in driver.find_elements(By.CSS_SELECTOR, "#rows tr[data-id]")
                if "AfterRestart" in r.text
            ),
            what="a row after the restart",
        )
        assert "AfterRestart" in row.text
        assert was_not_reloaded(driver)
        # The old stream's id cannot be resumed by the restarted receiver (a new event
        # epoch): the page says it may be stale instead of looking current.
        assert driver.find_element(By.ID, "stale").is_displayed()


def test_a_bulk_ack_from_the_list(receiver: ReceiverProcess) -> None:
    for name in ("BulkA", "BulkB", "BulkC"):
        post_webhook(receiver.url, incident(name))
    ids = {name: incident_id(receiver.url, name) for name in ("BulkA", "BulkB", "BulkC")}
    with chrome() as driver:
        sign_in(driver, receiver.url, "alice")
        for name in ("BulkA", "BulkC"):
            driver.find_element(By.CSS_SELECTOR, f"input[aria-label='select #{ids[name]}']").click()
        driver.find_element(By.CSS_SELECTOR, "form#bulk input[name=comment]").send_keys("batch")
        driver.find_element(By.XPATH, "//button[text()='Apply to selected']").click()
        notice = wait_until(
            lambda: driver.find_element(By.CSS_SELECTOR, ".notice[role=status]"),
            what="the bulk result",
        )
        assert notice.text == "ack: 2 done."
        assert [r.get_attribute("data-id") for r in driver.find_elements(
            By.CSS_SELECTOR, "#rows tr[data-id]"
        )] == [str(ids["BulkB"])]  # fmt: skip
    states = {n: api(receiver.url, f"/api/v1/incidents/{i}", "root") for n, i in ids.items()}
    assert {n: d["state"] for n, d in states.items()} == {
        "BulkA": "acknowledged",
        "BulkB": "firing",
        "BulkC": "acknowledged",
    }
    assert states["BulkA"]["ack_comment"] == "batch" and states["BulkA"]["acked_by"] == "alice"
