"""A throw-away self-signed certificate for 127.0.0.1 / localhost, for TLS in tests."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from tests.certs import write_localhost_cert


@dataclass(frozen=True)
class SelfSigned:
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(self.cert_file), str(self.key_file))
        return ctx

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert_file))


def make_self_signed(directory: Path) -> SelfSigned:
    """Write a certificate valid for 127.0.0.1 and localhost (it is its own CA)."""
    cert_file = directory / "cert.pem"
    key_file = directory / "key.pem"
    write_localhost_cert(cert_file, key_file)
    return SelfSigned(cert_file, key_file)
