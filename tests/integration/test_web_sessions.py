"""The incidents page over plain HTTP against a real receiver process: sign-in, cookie
attributes, sessions across a restart, sign-out revoking the cookie, bad input."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from tests.browser.chrome import TOKENS, incident, receiver_config
from tests.integration.receiver_harness import ReceiverProcess, post_webhook

pytestmark = pytest.mark.integration


@pytest.fixture
async def receiver(tmp_path: Path) -> AsyncIterator[ReceiverProcess]:
    r = await ReceiverProcess(tmp_path, receiver_config()).start()
    yield r
    r.stop()


def _client() -> aiohttp.ClientSession:
    # unsafe: cookies for an IP address host (127.0.0.1) are kept too.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, html[:2000]
    return found.group(1)


async def _sign_in(s: aiohttp.ClientSession, base: str, name: str) -> aiohttp.ClientResponse:
    async with s.get(base + "/signin") as r:
        csrf = _hidden(await r.text(), "csrf")
    form = {"csrf": csrf, "token": TOKENS[name][1], "next": "/"}
    async with s.post(base + "/signin", data=form, allow_redirects=False) as r:
        return r


async def test_sign_in_sets_a_strict_httponly_cookie_that_survives_a_restart(
    receiver: ReceiverProcess,
) -> None:
    async with _client() as s:
        r = await _sign_in(s, receiver.url, "alice")
        assert r.status == 303 and r.headers["Location"] == "/"
        cookie = next(c for c in r.headers.getall("Set-Cookie") if "tocsin_session=" in c)
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=43200" in cookie
        assert "Secure" not in cookie  # plain HTTP here
        async with s.get(receiver.url + "/") as page:
            assert page.status == 200
            assert "Signed in as <strong>alice</strong>" in await page.text()
            csp = page.headers["Content-Security-Policy"]
            assert csp.startswith("default-src 'self'") and "unsafe-inline" not in csp
        receiver.stop()
        await receiver.start()
        async with s.get(receiver.url + "/", allow_redirects=False) as page:
            assert page.status == 200, "the session did not survive the restart"


async def test_sign_out_revokes_the_cookie_even_when_replayed(receiver: ReceiverProcess) -> None:
    async with _client() as s:
        await _sign_in(s, receiver.url, "vic")
        stolen = s.cookie_jar.filter_cookies(URL(receiver.url))["tocsin_session"].value
        async with s.get(receiver.url + "/") as page:
            csrf = _hidden(await page.text(), "csrf")
        async with s.post(receiver.url + "/signout", data={}, allow_redirects=False) as r:
            assert r.status == 403 and (await r.json())["field"] == "csrf"
        async with s.post(
            receiver.url + "/signout", data={"csrf": csrf}, allow_redirects=False
        ) as r:
            assert r.status == 303 and r.headers["Location"] == "/signin"
    async with aiohttp.ClientSession() as s:
        headers = {"Cookie": f"tocsin_session={stolen}"}
        async with s.get(receiver.url + "/", headers=headers, allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"].startswith("/signin")


async def test_sign_in_refuses_a_wrong_token_and_a_missing_csrf(
    receiver: ReceiverProcess,
) -> None:
    async with _client() as s:
        async with s.get(receiver.url + "/signin") as r:
            csrf = _hidden(await r.text(), "csrf")
        form = {"csrf": csrf, "token": "not-a-token"}
        async with s.post(receiver.url + "/signin", data=form, allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"] == "/signin?error=1"
        form = {"token": TOKENS["alice"][1]}
        async with s.post(receiver.url + "/signin", data=form, allow_redirects=False) as r:
            assert r.status == 403 and (await r.json())["field"] == "csrf"
        assert "tocsin_session" not in s.cookie_jar.filter_cookies(URL(receiver.url))


async def test_bad_input_is_a_4xx_naming_the_field(receiver: ReceiverProcess) -> None:
    async with _client() as s:
        await _sign_in(s, receiver.url, "alice")
        for query, field in (
            ("state=nope", "state"),
            ("match=%7Bbad", "match"),
            ("per_page=7", "per_page"),
            ("page=0", "page"),
            ("group_by=a-b", "group_by"),
            ("q=" + "x" * 201, "q"),
        ):
            async with s.get(f"{receiver.url}/?{query}") as r:
                assert r.status == 400, query
                assert (await r.json())["field"] == field, query
        async with s.post(receiver.url + "/incidents/1/ack", data="x" * 70_000) as r:
            assert r.status == 413 and (await r.json())["field"] == "body"
        async with s.post(
            receiver.url + "/incidents/1/ack", data=b'{"csrf": 1}',
            headers={"Content-Type": "application/json"},
        ) as r:  # fmt: skip
            assert r.status == 415 and (await r.json())["field"] == "Content-Type"
        fields = "&".join(f"f{i}=1" for i in range(40))
        async with s.post(
            receiver.url + "/incidents/1/ack", data=fields,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as r:  # fmt: skip
            assert r.status == 400 and (await r.json())["field"] == "body"
        async with s.get(receiver.url + "/rows?id=abc") as r:
            assert r.status == 400 and (await r.json())["field"] == "id"
        async with s.get(receiver.url + "/") as page:
            csrf = _hidden(await page.text(), "csrf")
        for form, field in (
            ({"action": "delete", "id": "1"}, "action"),
            ({"action": "ack"}, "id"),
            ({"action": "ack", "id": "x1"}, "id"),
            ({"action": "ack", "id": "1", "view": "state=nope"}, "state"),
        ):
            async with s.post(receiver.url + "/bulk", data={"csrf": csrf, **form}) as r:
                assert r.status == 400 and (await r.json())["field"] == field, form
        # The session cookie never authenticates the JSON API.
        async with s.get(receiver.url + "/api/v1/incidents") as r:
            assert r.status == 401
    async with aiohttp.ClientSession() as s, s.get(receiver.url + "/events") as r:
        assert r.status == 401 and (await r.json())["field"] == "session"


async def test_the_route_prefix_flag_moves_the_page(tmp_path: Path) -> None:
    r = await ReceiverProcess(
        tmp_path, receiver_config(), args=["--web.route-prefix=/ops/tocsin/"]
    ).start()
    try:
        async with _client() as s:
            async with s.get(r.url + "/ops/tocsin", allow_redirects=False) as resp:
                assert resp.status == 301 and resp.headers["Location"] == "/ops/tocsin/"
            async with s.get(r.url + "/ops/tocsin/", allow_redirects=False) as resp:
                assert resp.status == 303
                assert resp.headers["Location"].startswith("/ops/tocsin/signin?next=")
            async with s.get(r.url + "/ops/tocsin/static/app.js") as resp:
                assert resp.status == 200 and "EventSource" in await resp.text()
            async with s.get(r.url + "/", allow_redirects=False) as resp:
                assert resp.status == 404
    finally:
        r.stop()


async def test_without_tokens_a_visit_opens_an_anonymous_session_with_csrf(
    tmp_path: Path,
) -> None:
    r = await ReceiverProcess(tmp_path).start()
    try:
        async with aiohttp.ClientSession() as s:
            status, _ = await post_webhook(s, r.url, incident("Anon"))
            assert status == 200
        iid = await r.incident_id("Anon")
        async with _client() as s:
            async with s.get(r.url + "/signin", allow_redirects=False) as resp:
                assert resp.status == 303 and resp.headers["Location"] == "/"
            async with s.get(r.url + "/") as resp:
                page = await resp.text()
                assert "Signed in as <strong>anonymous</strong>" in page
            url = f"{r.url}/incidents/{iid}/ack"
            async with s.post(url, data={"comment": "x"}) as resp:
                assert resp.status == 403 and (await resp.json())["field"] == "csrf"
            form = {"csrf": _hidden(page, "csrf"), "comment": "on it"}
            async with s.post(url, data=form, allow_redirects=False) as resp:
                assert resp.status == 303
        _, doc = await r.api("GET", f"/api/v1/incidents/{iid}")
        assert doc["state"] == "acknowledged" and doc["acked_by"] == "anonymous"
    finally:
        r.stop()


async def test_an_https_external_url_makes_the_cookie_secure(tmp_path: Path) -> None:
    r = await ReceiverProcess(
        tmp_path, receiver_config(), args=["--web.external-url=https://alerts.example/t/"]
    ).start()
    try:
        async with aiohttp.ClientSession() as s:
            async with s.get(r.url + "/t/signin") as resp:
                csrf = _hidden(await resp.text(), "csrf")
                signin_cookie = resp.cookies["tocsin_signin"]
            assert signin_cookie["secure"]
            # A client would send a Secure cookie only over https (to the proxy); sent by
            # hand here, as the proxy would pass it on.
            form = {"csrf": csrf, "token": TOKENS["vic"][1], "next": "/t/"}
            headers = {"Cookie": f"tocsin_signin={signin_cookie.value}"}
            async with s.post(
                r.url + "/t/signin", data=form, headers=headers, allow_redirects=False
            ) as resp:
                assert resp.status == 303 and resp.headers["Location"] == "/t/"
                cookie = next(
                    c for c in resp.headers.getall("Set-Cookie") if "tocsin_session=" in c
                )
        assert "Secure" in cookie and "Path=/t" in cookie
    finally:
        r.stop()


async def test_a_bulk_action_reports_the_incidents_it_could_not_change(
    receiver: ReceiverProcess,
) -> None:
    async with aiohttp.ClientSession() as s:
        for group in ("Twice1", "Twice2"):
            status, _ = await post_webhook(
                s, receiver.url, incident(group), {"Authorization": f"Bearer {TOKENS['am'][1]}"}
            )
            assert status == 200
    first = await receiver.incident_id("Twice1", TOKENS["root"][1])
    second = await receiver.incident_id("Twice2", TOKENS["root"][1])
    status, _ = await receiver.api("POST", f"/api/v1/incidents/{first}/ack", TOKENS["alice"][1])
    assert status == 200
    async with _client() as s:
        await _sign_in(s, receiver.url, "alice")
        async with s.get(receiver.url + "/") as page:
            csrf = _hidden(await page.text(), "csrf")
        form = [("csrf", csrf), ("action", "ack"), ("id", str(first)), ("id", str(second))]
        form.append(("view", "state=firing&q=Twice"))
        async with s.post(receiver.url + "/bulk", data=form, allow_redirects=False) as r:
            assert r.status == 303
            assert r.headers["Location"].endswith("&done=1&failed=1&did=ack")
            assert "q=Twice" in r.headers["Location"]
        async with s.get(receiver.url + r.headers["Location"]) as page:
            assert "ack: 1 done, 1 not" in await page.text()
