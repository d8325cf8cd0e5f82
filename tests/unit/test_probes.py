"""Probes against real local servers: aiohttp over HTTP and HTTPS (self-signed, made here)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from exporter.collector import CollectorContext
from exporter.collectors.probes import (
    ProbeConfig,
    ProbesCollector,
    ProbesConfig,
    TLSConfig,
    run_probe,
)
from exporter.probing.connect import build_ssl_context
from servicekit.loader import Loader
from servicekit.values import Duration, Secret
from tests.certs import write_localhost_cert
from tests.procs import free_port
from tests.registry import Found, collected

SEEN = web.AppKey("seen", list[web.Request])
NOT_AFTER = dt.datetime(2031, 5, 17, 12, 0, tzinfo=dt.UTC)


def write_cert(directory: Path, name: str, cn: str, not_after: dt.datetime = NOT_AFTER) -> Path:
    """A self-signed certificate for 127.0.0.1/localhost; key at <name>.key."""
    write_localhost_cert(directory / f"{name}.crt", directory / f"{name}.key", cn, not_after)
    return directory / f"{name}.crt"


@dataclass
class Servers:
    http: str
    https: str
    mtls: str
    ca: Path
    client_cert: Path
    client_key: Path
    seen: list[web.Request]


async def handler_ok(request: web.Request) -> web.Response:
    request.app[SEEN].append(request)
    return web.Response(text="status: healthy\n")


async def handler_slow(request: web.Request) -> web.Response:
    await asyncio.sleep(30)
    return web.Response(text="late")


async def handler_error(request: web.Request) -> web.Response:
    return web.Response(status=503, text="status: down")


async def handler_chunked(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    for part in (b"first ", b"second ", b"marker-42 ", b"end"):
        await resp.write(part)
    await resp.write_eof()
    return resp


async def handler_redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/ok")


async def handler_echo(request: web.Request) -> web.Response:
    body = await request.text()
    return web.Response(text=f"{request.method} {body} {request.headers.get('Authorization')}")


@pytest.fixture
async def servers(tmp_path: Path) -> AsyncIterator[Servers]:
    server_cert = write_cert(tmp_path, "server", "probe-target")
    client_cert = write_cert(tmp_path, "client", "probe-client")
    app = web.Application()
    app[SEEN] = []
    app.router.add_get("/ok", handler_ok)
    app.router.add_get("/slow", handler_slow)
    app.router.add_get("/error", handler_error)
    app.router.add_get("/chunked", handler_chunked)
    app.router.add_get("/redirect", handler_redirect)
    app.router.add_route("*", "/echo", handler_echo)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(server_cert, tmp_path / "server.key")
    mtls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    mtls.load_cert_chain(server_cert, tmp_path / "server.key")
    mtls.load_verify_locations(client_cert)
    mtls.verify_mode = ssl.CERT_REQUIRED
    ports = []
    for ctx in (None, tls, mtls):
        # Bound here on port 0 so no other process can take the port in between.
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        ports.append(sock.getsockname()[1])
        await web.SockSite(runner, sock, ssl_context=ctx).start()
    try:
        yield Servers(
            http=f"http://127.0.0.1:{ports[0]}",
            https=f"https://127.0.0.1:{ports[1]}",
            mtls=f"https://127.0.0.1:{ports[2]}",
            ca=server_cert,
            client_cert=client_cert,
            client_key=tmp_path / "client.key",
            seen=app[SEEN],
        )
    finally:
        await runner.cleanup()


def http_probe(target: str, **kw: object) -> ProbeConfig:
    return ProbeConfig(name="p", target=target, **kw)  # type: ignore[arg-type]


async def test_http_success_with_phases_and_body_regex(servers: Servers) -> None:
    probe = http_probe(f"{servers.http}/ok", body_regex=re.compile(r"status: healthy"))
    r = await run_probe(probe, None)
    assert (r.success, r.status_code, r.error) == (True, 200, "")
    assert set(r.phases) == {"resolve", "connect", "processing", "transfer"}
    assert all(v >= 0 for v in r.phases.values())
    assert r.cert_not_after is None
    sent = servers.seen[-1]
    assert sent.headers["User-Agent"].startswith("tocsin-probe/")
    assert sent.headers["Host"] == servers.http.removeprefix("http://")


async def test_https_verified_against_ca_file_reports_cert_expiry(servers: Servers) -> None:
    probe = http_probe(f"{servers.https}/ok", tls=TLSConfig(ca_file=servers.ca))
    r = await run_probe(probe, build_ssl_context(probe.tls.options()))
    assert r.success, r.error
    assert set(r.phases) == {"resolve", "connect", "tls", "processing", "transfer"}
    assert r.cert_not_after == NOT_AFTER.timestamp()


async def test_https_self_signed_fails_verification_unless_verify_is_off(
    servers: Servers,
) -> None:
    strict = http_probe(f"{servers.https}/ok")
    r = await run_probe(strict, build_ssl_context(strict.tls.options()))
    assert not r.success
    assert "CERTIFICATE_VERIFY_FAILED" in r.error
    assert "tls" not in r.phases and "connect" in r.phases
    lax = http_probe(f"{servers.https}/ok", tls=TLSConfig(verify=False))
    r = await run_probe(lax, build_ssl_context(lax.tls.options()))
    assert r.success, r.error
    assert r.cert_not_after == NOT_AFTER.timestamp()


async def test_client_certificate(servers: Servers) -> None:
    without = http_probe(f"{servers.mtls}/ok", tls=TLSConfig(ca_file=servers.ca))
    r = await run_probe(without, build_ssl_context(without.tls.options()))
    assert not r.success
    with_cert = http_probe(
        f"{servers.mtls}/ok",
        tls=TLSConfig(
            ca_file=servers.ca, cert_file=servers.client_cert, key_file=servers.client_key
        ),
    )
    r = await run_probe(with_cert, build_ssl_context(with_cert.tls.options()))
    assert r.success, r.error
    assert r.status_code == 200


async def test_unexpected_status_and_body(servers: Servers) -> None:
    r = await run_probe(http_probe(f"{servers.http}/error"), None)
    assert (r.success, r.status_code) == (False, 503)
    assert "503" in r.error
    assert "transfer" in r.phases
    r = await run_probe(http_probe(f"{servers.http}/error", valid_status_codes=[503]), None)
    assert r.success
    r = await run_probe(http_probe(f"{servers.http}/ok", body_regex=re.compile("nope")), None)
    assert (r.success, r.status_code) == (False, 200)
    r = await run_probe(
        http_probe(f"{servers.http}/ok", fail_if_body_matches=re.compile("healthy")), None
    )
    assert not r.success


async def test_redirect_is_not_followed(servers: Servers) -> None:
    r = await run_probe(http_probe(f"{servers.http}/redirect"), None)
    assert (r.success, r.status_code) == (False, 302)
    r = await run_probe(http_probe(f"{servers.http}/redirect", valid_status_codes=[302]), None)
    assert r.success


async def test_chunked_body_is_decoded(servers: Servers) -> None:
    probe = http_probe(f"{servers.http}/chunked", body_regex=re.compile(r"second marker-42 end$"))
    r = await run_probe(probe, None)
    assert r.success, r.error


async def test_method_body_and_bearer_token(servers: Servers) -> None:
    probe = http_probe(
        f"{servers.http}/echo",
        method="POST",
        body="payload",
        bearer_token=Secret("s3cret"),
        body_regex=re.compile(r"^POST payload Bearer s3cret$"),
    )
    r = await run_probe(probe, None)
    assert r.success, r.error


async def test_timeout_keeps_completed_phases(servers: Servers) -> None:
    probe = http_probe(f"{servers.http}/slow", timeout=Duration(0.3))
    r = await run_probe(probe, None)
    assert not r.success
    assert r.error.startswith("timed out")
    assert "connect" in r.phases and "processing" not in r.phases
    assert r.status_code is None


async def test_tcp_refused_and_tcp_expect() -> None:
    refused = ProbeConfig(name="t", type="tcp", target=f"127.0.0.1:{free_port()}")
    r = await run_probe(refused, None)
    assert not r.success
    assert "onnect" in r.error or "refused" in r.error.lower()
    assert "resolve" in r.phases and "connect" not in r.phases

    async def banner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n")
        await writer.drain()
        await reader.read(100)
        writer.close()

    server = await asyncio.start_server(banner, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        ok = ProbeConfig(
            name="t", type="tcp", target=f"127.0.0.1:{port}", expect=re.compile("^SSH-2.0-")
        )
        r = await run_probe(ok, None)
        assert r.success, r.error
        assert set(r.phases) == {"resolve", "connect", "processing"}
        bad = ProbeConfig(
            name="t",
            type="tcp",
            target=f"localhost:{port}",
            expect=re.compile("^HTTP"),
            timeout=Duration(0.5),
        )
        r = await run_probe(bad, None)
        # The peer keeps the connection open, so the probe waits until its timeout.
        assert not r.success
        assert r.error.startswith("timed out")
        assert "processing" not in r.phases
    finally:
        server.close()
        await server.wait_closed()


async def test_tls_probe(servers: Servers) -> None:
    target = servers.https.removeprefix("https://")
    probe = ProbeConfig(name="t", type="tls", target=target, tls=TLSConfig(ca_file=servers.ca))
    r = await run_probe(probe, build_ssl_context(probe.tls.options()))
    assert r.success, r.error
    assert set(r.phases) == {"resolve", "connect", "tls"}
    assert r.cert_not_after == NOT_AFTER.timestamp()
    wrong_name = ProbeConfig(
        name="t",
        type="tls",
        target=target,
        tls=TLSConfig(ca_file=servers.ca, server_name="other.example"),
    )
    r = await run_probe(wrong_name, build_ssl_context(wrong_name.tls.options()))
    assert not r.success
    assert "hostname" in r.error.lower() or "match" in r.error.lower()


async def test_collector_runs_probes_in_background(servers: Servers) -> None:
    # Each probe runs once right away at start(); the long interval keeps it to one run.
    cfg = ProbesConfig(
        probes=[
            ProbeConfig(
                name="web",
                target=f"{servers.https}/ok",
                interval=Duration(60),
                tls=TLSConfig(ca_file=servers.ca),
            ),
            ProbeConfig(
                name="down", type="tcp", target=f"127.0.0.1:{free_port()}", interval=Duration(60)
            ),
        ]
    )
    c = ProbesCollector(CollectorContext(config=cfg))
    assert [s for f in c.collect() for s in f.samples] == []  # nothing measured yet
    await c.start()
    try:
        deadline = asyncio.get_running_loop().time() + 10
        found: Found = {}
        while asyncio.get_running_loop().time() < deadline:
            found = collected(await asyncio.to_thread(lambda: list(c.collect())))
            if found.get("tocsin_probe_success", {}).get(("web",)) == 1.0 and (
                "down",
            ) in found.get("tocsin_probe_success", {}):
                break
            await asyncio.sleep(0.05)
        assert found["tocsin_probe_success"] == {("web",): 1.0, ("down",): 0.0}
        assert found["tocsin_probe_http_status_code"] == {("web",): 200.0}
        assert found["tocsin_probe_tls_cert_not_after_timestamp_seconds"] == {
            ("web",): NOT_AFTER.timestamp()
        }
        phases = {k for k in found["tocsin_probe_duration_seconds"] if k[0] == "web"}
        assert phases == {
            ("web", p) for p in ("resolve", "connect", "tls", "processing", "transfer")
        }
    finally:
        await c.stop()


def test_config_problems(tmp_path: Path) -> None:
    loader = Loader("x.yml")
    loader.load(
        ProbesConfig,
        {
            "probes": [
                {"name": "a", "target": "ftp://x/"},
                {"name": "a", "target": "nohost", "type": "tcp"},
                {"name": "b c", "target": "http://x/", "timeout": "1m", "interval": "10s"},
                {
                    "name": "d",
                    "target": "http://x/",
                    "tls": {"ca_file": str(tmp_path / "none.pem")},
                },
                {"name": "e", "target": "x:1", "type": "tls", "body_regex": "x"},
                {"name": "f", "target": "http://x/", "headers": {"X-A": "1\r\nEvil: 1"}},
            ]
        },
        "collectors.probes",
    )
    keys = {p.key for p in loader.problems}
    assert keys == {
        "collectors.probes.probes",  # name 'a' twice, found although the items have problems
        "collectors.probes.probes[0].target",
        "collectors.probes.probes[1].target",
        "collectors.probes.probes[2].name",
        "collectors.probes.probes[2].timeout",
        "collectors.probes.probes[3].tls.ca_file",
        "collectors.probes.probes[4]",
        "collectors.probes.probes[5].headers.X-A",
    }
    dupes = Loader("x.yml")
    two = [{"name": "a", "target": "http://x/"}, {"name": "a", "target": "http://y/"}]
    dupes.load(ProbesConfig, {"probes": two}, "collectors.probes")
    assert [str(p) for p in dupes.problems] == [
        "x.yml: collectors.probes.probes: probe name 'a' is used twice"
    ]


async def test_unreadable_tls_files_at_run_time_are_a_probe_failure(tmp_path: Path) -> None:
    missing = tmp_path / "gone-ca.pem"
    probe = ProbeConfig(
        name="gone",
        target=f"https://127.0.0.1:{free_port()}/",
        interval=Duration(60),
        tls=TLSConfig(ca_file=missing),
    )
    c = ProbesCollector(CollectorContext(config=ProbesConfig(probes=[probe])))
    await c.start()
    try:
        deadline = asyncio.get_running_loop().time() + 10
        while not c._results and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
    finally:
        await c.stop()
    result = c._results["gone"]
    assert not result.success
    assert result.error.startswith("cannot load TLS files")
