"""The page's admin part against a real receiver: a channel test shows its first attempt,
a dead letter is replayed; both audited, both refused to an operator."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.browser.chrome import TOKENS, incident, receiver_config
from tests.integration.receiver_harness import ReceiverProcess, post_webhook, wait_for
from tests.procs import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
async def receiver(tmp_path: Path) -> AsyncIterator[ReceiverProcess]:
    closed = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens: every send fails
    cfg = receiver_config(
        channels=[{"name": "down", "type": "webhook", "url": closed}],
        default_route={"channels": ["down"]},
        outbox={"max_attempts": 1},
    )
    r = await ReceiverProcess(tmp_path, cfg).start()
    yield r
    r.stop()


async def _signed_in(base: str, name: str) -> tuple[aiohttp.ClientSession, str]:
    s = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with s.get(base + "/signin") as r:
        csrf = re.search(r'name="csrf" value="([^"]*)"', await r.text())
    assert csrf
    form = {"csrf": csrf.group(1), "token": TOKENS[name][1], "next": "/"}
    async with s.post(base + "/signin", data=form) as r:
        page = await r.text()
    session_csrf = re.search(r'name="csrf" value="([^"]*)"', page)
    assert session_csrf, page[:2000]
    return s, session_csrf.group(1)


async def test_admin_replays_a_dead_letter_and_tests_a_channel(receiver: ReceiverProcess) -> None:
    async with aiohttp.ClientSession() as s:
        status, _ = await post_webhook(
            s, receiver.url, incident("Dead"), {"Authorization": f"Bearer {TOKENS['am'][1]}"}
        )
    assert status == 200

    async def dead() -> list[dict[str, object]]:
        _, doc = await receiver.api("GET", "/api/v1/deadletters", TOKENS["root"][1])
        return list(doc["deadletters"])

    await wait_for(dead, 30, what="a dead letter")
    (letter,) = await dead()
    s, csrf = await _signed_in(receiver.url, "root")
    async with s:
        async with s.get(receiver.url + "/admin") as r:
            page = await r.text()
        assert f"Replay {letter['id']}" in page and "Send a test to down" in page
        async with s.post(
            f"{receiver.url}/channels/down/test", data={"csrf": csrf}
        ) as r:  # fmt: skip
            assert r.status == 200
            result = await r.text()
        assert "Test of down: " in result and "error" in result
        async with s.post(
            f"{receiver.url}/deadletters/{letter['id']}/replay",
            data={"csrf": csrf},
            allow_redirects=False,
        ) as r:
            assert r.status == 303 and r.headers["Location"] == "/admin"
    _, audit = await receiver.api("GET", "/api/v1/audit", TOKENS["root"][1])
    actions = {(a["actor"], a["action"]) for a in audit["audit"]}
    assert {("root", "replay"), ("root", "test_notification")} <= actions

    s, csrf = await _signed_in(receiver.url, "alice")
    async with s:
        async with s.get(receiver.url + "/") as r:
            assert ">Admin<" not in await r.text()
        async with s.get(receiver.url + "/admin") as r:
            assert r.status == 403
        async with s.post(f"{receiver.url}/channels/down/test", data={"csrf": csrf}) as r:
            assert r.status == 403
