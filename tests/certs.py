"""Self-signed certificates made on the fly for tests (EC P-256, SHA-256)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_certificate(
    cn: str,
    not_before: dt.datetime,
    not_after: dt.datetime,
    *,
    serial: int | None = None,
    for_localhost: bool = False,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A self-signed certificate and its key.

    `for_localhost` adds what a TLS server on 127.0.0.1 needs: a subjectAltName for
    localhost and 127.0.0.1, and CA basic constraints so clients can trust it as its own CA.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if for_localhost:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        ).add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return builder.sign(key, hashes.SHA256()), key


def cert_pem(cn: str, not_before: dt.datetime, not_after: dt.datetime, serial: int = 0) -> bytes:
    """A self-signed certificate in PEM (no key, no extensions), for certificate readers."""
    cert, _ = make_certificate(cn, not_before, not_after, serial=serial or None)
    return cert.public_bytes(serialization.Encoding.PEM)


def write_localhost_cert(
    cert_path: Path, key_path: Path, cn: str = "localhost", not_after: dt.datetime | None = None
) -> None:
    """Write a certificate for localhost/127.0.0.1 (its own CA) and its PKCS#8 key.

    Valid from five minutes ago until `not_after` (default: one day from now).
    """
    now = dt.datetime.now(dt.UTC)
    cert, key = make_certificate(
        cn,
        now - dt.timedelta(minutes=5),
        not_after or now + dt.timedelta(days=1),
        for_localhost=True,
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
