"""TCP and TLS-handshake probes: connect (and handshake), optionally send and expect."""

from __future__ import annotations

import ssl
from re import Pattern

from exporter.probing.connect import open_stream
from exporter.probing.result import PhaseTimer, ProbeFailed, ProbeResult


async def probe_tcp(
    host: str,
    port: int,
    result: ProbeResult,
    tls: ssl.SSLContext | None = None,
    server_name: str | None = None,
    send: bytes = b"",
    expect: Pattern[str] | None = None,
    max_read_bytes: int = 65536,
) -> None:
    """Connect (with a TLS handshake when `tls` is given), then optionally talk.

    With `expect`, data is read until the regex matches, the peer closes or
    `max_read_bytes` arrived; the time that takes is the `processing` phase. Results go
    into `result`, which keeps what was measured if this raises.
    """
    timer = PhaseTimer(result)
    stream = await open_stream(host, port, timer, result, tls=tls, server_name=server_name)
    try:
        if send:
            stream.writer.write(send)
            await stream.writer.drain()
        if expect is not None:
            seen = b""
            while not expect.search(seen.decode("utf-8", "replace")):
                chunk = await stream.reader.read(4096)
                if not chunk or len(seen) >= max_read_bytes:
                    raise ProbeFailed("response does not match expect")
                seen += chunk
        if send or expect is not None:
            timer.mark("processing")
    finally:
        await stream.close()
    result.success = True
