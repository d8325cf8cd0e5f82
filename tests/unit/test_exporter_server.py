"""The aiohttp application in-process: negotiation, caching headers, auth, endpoints."""

from __future__ import annotations

import base64
import gzip
from collections.abc import AsyncIterator

import bcrypt
import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from exporter.collector import CollectorContext
from exporter.scrape import Collection, CollectorEntry, ScrapeCache
from exporter.server import ServerSettings, build_app
from exporter.webconfig import HTTPServerConfig, WebConfig
from servicekit.values import Secret
from tests.conftest import PROMETHEUS_ACCEPT
from tests.fake_collectors import Boom, Static
from tests.metrics import parse_series


async def start(web_cfg: WebConfig | None = None) -> tuple[TestServer, Collection]:
    ctx = CollectorContext()
    collection = Collection(
        [CollectorEntry("static", 5.0, Static(ctx)), CollectorEntry("boom", 5.0, Boom(ctx))]
    )
    cache = ScrapeCache(collection, min_interval=3600.0)
    app = build_app(cache, ServerSettings(listen=[], collectors=[], web=web_cfg))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server, collection


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    srv, collection = await start()
    yield srv
    await srv.close()
    collection.shutdown()


@pytest.fixture
async def session() -> AsyncIterator[ClientSession]:
    async with ClientSession(auto_decompress=False) as s:
        yield s


async def test_text_format_by_default_with_age_and_vary(
    server: TestServer, session: ClientSession
) -> None:
    async with session.get(server.make_url("/metrics"), headers={"Accept-Encoding": ""}) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        assert "Content-Encoding" not in r.headers
        assert int(r.headers["Age"]) >= 0
        assert "Accept-Encoding" in r.headers["Vary"]
        body = (await r.read()).decode()
    values = parse_series(body)
    assert values[("test_static_value", ())] == 7
    assert values[("tocsin_exporter_collector_success", (("collector", "boom"),))] == 0
    assert values[("tocsin_exporter_collector_success", (("collector", "static"),))] == 1


async def test_gzip_when_accepted(server: TestServer, session: ClientSession) -> None:
    async with session.get(server.make_url("/metrics"), headers={"Accept-Encoding": ""}) as r:
        plain = await r.read()
    async with session.get(
        server.make_url("/metrics"), headers={"Accept-Encoding": "gzip, deflate"}
    ) as r:
        assert r.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(await r.read()) == plain
    async with session.get(
        server.make_url("/metrics"), headers={"Accept-Encoding": "gzip;q=0, identity"}
    ) as r:
        assert "Content-Encoding" not in r.headers
        assert await r.read() == plain


async def test_openmetrics_when_asked(server: TestServer, session: ClientSession) -> None:
    headers = {"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip"}
    async with session.get(server.make_url("/metrics"), headers=headers) as r:
        assert r.headers["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
        body = gzip.decompress(await r.read())
    assert body.endswith(b"# EOF\n")
    assert b"test_static_value 7.0" in body
    async with session.get(
        server.make_url("/metrics"), headers={"Accept": "text/plain;version=0.0.4"}
    ) as r:
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")


async def test_health_and_landing_page(server: TestServer, session: ClientSession) -> None:
    async with session.get(server.make_url("/-/healthy")) as r:
        assert r.status == 200
        assert (await r.text()).strip() == "Healthy"
    async with session.get(server.make_url("/")) as r:
        assert r.status == 200
        page = await r.text()
    assert 'href="/metrics"' in page
    assert "static" in page


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def test_basic_auth_and_extra_headers(session: ClientSession) -> None:
    hashed = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(4)).decode()
    cfg = WebConfig(
        basic_auth_users={"prom": Secret(hashed)},
        http_server_config=HTTPServerConfig(headers={"X-Frame-Options": "deny"}),
    )
    srv, collection = await start(cfg)
    try:
        url = srv.make_url("/metrics")
        async with session.get(url) as r:
            assert r.status == 401
            assert r.headers["WWW-Authenticate"].startswith("Basic realm=")
        async with session.get(url, headers=_basic("prom", "wrong")) as r:
            assert r.status == 401
        async with session.get(url, headers=_basic("nobody", "s3cret")) as r:
            assert r.status == 401
        async with session.get(url, headers={"Authorization": "Basic !!notbase64"}) as r:
            assert r.status == 401
        for _ in range(2):  # the second one takes the remembered-digest path
            async with session.get(url, headers=_basic("prom", "s3cret")) as r:
                assert r.status == 200
                assert r.headers["X-Frame-Options"] == "deny"
        async with session.get(url, headers=_basic("prom", "s3cret2")) as r:
            assert r.status == 401
        async with session.get(srv.make_url("/-/healthy")) as r:
            assert r.status == 401
    finally:
        await srv.close()
        collection.shutdown()


def test_build_app_routes_custom_telemetry_path() -> None:
    collection = Collection([])
    try:
        app = build_app(
            ScrapeCache(collection, 1.0),
            ServerSettings(listen=[], collectors=[], telemetry_path="/custom"),
        )
        paths = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
        assert {"/custom", "/-/healthy", "/"} <= paths
        assert "/metrics" not in paths
        assert isinstance(app, web.Application)
    finally:
        collection.shutdown()
