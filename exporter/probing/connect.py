"""Resolve, connect and (optionally) TLS-handshake, timing each step separately."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from exporter.certs import CertificateError, parse_der
from exporter.probing.result import PhaseTimer, ProbeResult


@dataclass
class TLSOptions:
    """How to set up the client side of a TLS connection."""

    verify: bool = True
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    server_name: str | None = None


def build_ssl_context(opts: TLSOptions) -> ssl.SSLContext:
    """A client context from the options; raises OSError/ssl.SSLError on unreadable files."""
    ctx = ssl.create_default_context(cafile=str(opts.ca_file) if opts.ca_file else None)
    if not opts.verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if opts.cert_file is not None:
        ctx.load_cert_chain(
            str(opts.cert_file), str(opts.key_file) if opts.key_file is not None else None
        )
    return ctx


@dataclass
class Stream:
    """An open connection."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def close(self) -> None:
        """Close without waiting long for a peer that ignores TLS close_notify."""
        self.writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)


async def open_stream(
    host: str,
    port: int,
    timer: PhaseTimer,
    result: ProbeResult,
    tls: ssl.SSLContext | None = None,
    server_name: str | None = None,
) -> Stream:
    """Connect to host:port, recording the resolve, connect and tls phases.

    Every resolved address is tried in order; the error of the last one is raised.
    """
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    timer.mark("resolve")
    if not infos:
        raise OSError(f"{host} resolved to no address")
    last: OSError | None = None
    for family, _, _, _, sockaddr in infos:
        try:
            reader, writer = await asyncio.open_connection(
                str(sockaddr[0]), int(sockaddr[1]), family=family
            )
        except OSError as exc:
            last = exc
            continue
        timer.mark("connect")
        stream = Stream(reader, writer)
        if tls is not None:
            try:
                await writer.start_tls(tls, server_hostname=server_name or host)
            except BaseException:
                await stream.close()
                raise
            timer.mark("tls")
            ssl_object = writer.get_extra_info("ssl_object")
            der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
            if der:
                with contextlib.suppress(CertificateError):
                    result.cert_not_after = parse_der(der).not_after
        return stream
    raise last or OSError(f"cannot connect to {host}:{port}")
