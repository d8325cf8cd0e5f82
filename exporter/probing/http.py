"""An HTTP/1.1 probe written on asyncio streams, so each phase can be timed on its own.

Phases: resolve, connect, tls (https only), processing (request sent until the response
headers are in) and transfer (the body). Redirects are not followed: a 3xx is reported
as it is, and counts as success only when listed in the expected status codes.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from re import Pattern
from urllib.parse import urlsplit

from exporter.probing.connect import open_stream
from exporter.probing.result import PhaseTimer, ProbeFailed, ProbeResult

USER_AGENT = "tocsin-probe/0.1"
_NO_BODY_CODES = {204, 304}


@dataclass
class HTTPRequest:
    """Everything an HTTP probe sends and checks."""

    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    valid_status_codes: list[int] = field(default_factory=list)
    body_regex: Pattern[str] | None = None
    fail_if_body_matches: Pattern[str] | None = None
    max_body_bytes: int = 1 << 20


def _request_bytes(req: HTTPRequest, host_header: str, target: str) -> bytes:
    lines = [f"{req.method} {target} HTTP/1.1", f"Host: {host_header}"]
    names = {k.lower() for k in req.headers}
    defaults = {
        "user-agent": USER_AGENT,
        "accept": "*/*",
        "accept-encoding": "identity",
    }
    lines += [f"{k.title()}: {v}" for k, v in defaults.items() if k not in names]
    lines += [f"{k}: {v}" for k, v in req.headers.items() if k.lower() != "connection"]
    lines.append("Connection: close")
    if req.body or req.method in {"POST", "PUT", "PATCH"}:
        lines.append(f"Content-Length: {len(req.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + req.body


async def probe_http(
    req: HTTPRequest,
    result: ProbeResult,
    tls: ssl.SSLContext | None = None,
    server_name: str | None = None,
) -> None:
    """Run one HTTP probe into `result` (which keeps what was measured if this raises).

    The caller bounds it with a timeout.
    """
    timer = PhaseTimer(result)
    url = urlsplit(req.url)
    host = url.hostname or ""
    https = url.scheme == "https"
    port = url.port or (443 if https else 80)
    default_port = url.port is None or url.port == (443 if https else 80)
    host_header = (f"[{host}]" if ":" in host else host) + ("" if default_port else f":{port}")
    target = (url.path or "/") + (f"?{url.query}" if url.query else "")
    stream = await open_stream(
        host, port, timer, result, tls=tls if https else None, server_name=server_name
    )
    try:
        stream.writer.write(_request_bytes(req, host_header, target))
        await stream.writer.drain()
        head = await stream.reader.readuntil(b"\r\n\r\n")
        timer.mark("processing")
        status, headers = _parse_head(head)
        result.status_code = status
        body = b""
        if req.method != "HEAD" and status not in _NO_BODY_CODES and status >= 200:
            body = await _read_body(stream.reader, headers, req.max_body_bytes)
        timer.mark("transfer")
    finally:
        await stream.close()
    valid = req.valid_status_codes or list(range(200, 300))
    if status not in valid:
        raise ProbeFailed(f"status {status} not in expected codes")
    text = body.decode("utf-8", "replace")
    if req.body_regex is not None and not req.body_regex.search(text):
        raise ProbeFailed("body does not match body_regex")
    if req.fail_if_body_matches is not None and req.fail_if_body_matches.search(text):
        raise ProbeFailed("body matches fail_if_body_matches")
    result.success = True


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ProbeFailed(f"malformed status line {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str], keep: int) -> bytes:
    """The body (first `keep` bytes of it); the rest is read and dropped so transfer is timed."""
    kept = bytearray()

    def take(chunk: bytes) -> None:
        room = keep - len(kept)
        if room > 0:
            kept.extend(chunk[:room])

    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # trailers
                break
            take(await reader.readexactly(size))
            await reader.readexactly(2)
    elif "content-length" in headers:
        remaining = int(headers["content-length"])
        while remaining > 0:
            chunk = await reader.read(min(remaining, 65536))
            if not chunk:
                raise ProbeFailed("connection closed before the whole body arrived")
            take(chunk)
            remaining -= len(chunk)
    else:
        while chunk := await reader.read(65536):
            take(chunk)
    return bytes(kept)
