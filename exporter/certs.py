"""X.509 certificate parsing shared by the certificates collector and the TLS probes.

`cryptography` is imported on first use (`_x509`): the exporter only pays for it when a
collector that reads certificates is enabled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import ModuleType
from typing import Any

# Blocks are found by searching for a BEGIN and then its END (`_pem_blocks`): one lazy
# `BEGIN.+?END` regex re-scanned the rest of the file from every BEGIN that has no END,
# quadratic in the file (a 224 KB file of BEGIN lines took 13 s).
_BEGIN = re.compile(rb"-----BEGIN (?:X509 )?CERTIFICATE-----")
_END = re.compile(rb"-----END (?:X509 )?CERTIFICATE-----")
# OpenSSL's older "X509 CERTIFICATE" label carries the same DER payload as CERTIFICATE.
_LABEL_VARIANT = re.compile(rb"-----(BEGIN|END) (?:X509 )CERTIFICATE")


def _x509() -> ModuleType:
    """`cryptography.x509`, imported on first use: cryptography adds ~7 MB RSS, and only
    certificate reading needs it."""
    from cryptography import x509

    return x509


class CertificateError(Exception):
    """The data holds no certificate we can read."""


@dataclass(frozen=True)
class CertInfo:
    """The parts of a certificate the metrics need; nothing secret."""

    subject_cn: str
    issuer_cn: str
    serial: str
    not_before: float
    not_after: float


def parse_certificates(data: bytes) -> list[CertInfo]:
    """Every certificate in a PEM bundle (or a single DER certificate).

    Blocks that are not certificates (private keys, parameters) are skipped without being
    parsed. Raises CertificateError when nothing usable is found.
    """
    x509 = _x509()
    blocks = _pem_blocks(data)
    if not blocks:
        if b"-----BEGIN" in data:
            raise CertificateError("no CERTIFICATE block in PEM data")
        try:
            return [_info(x509.load_der_x509_certificate(data))]
        except ValueError as exc:
            raise CertificateError("neither PEM nor DER certificate data") from exc
    found: list[CertInfo] = []
    for block in blocks:
        normalised = _LABEL_VARIANT.sub(rb"-----\1 CERTIFICATE", block)
        try:
            found.append(_info(x509.load_pem_x509_certificate(normalised)))
        except ValueError as exc:
            raise CertificateError(f"malformed certificate block: {exc}") from exc
    return found


def _pem_blocks(data: bytes) -> list[bytes]:
    """Each BEGIN CERTIFICATE ... END CERTIFICATE span, in one pass over `data`."""
    blocks = []
    pos = 0
    while (begin := _BEGIN.search(data, pos)) is not None:
        # At least one byte between the markers, as a certificate needs.
        end = _END.search(data, begin.end() + 1)
        if end is None:
            break  # no later BEGIN can have an END either
        blocks.append(data[begin.start() : end.end()])
        pos = end.end()
    return blocks


def parse_der(data: bytes) -> CertInfo:
    """One DER-encoded certificate, as returned by `SSLObject.getpeercert(binary_form=True)`."""
    x509 = _x509()
    try:
        return _info(x509.load_der_x509_certificate(data))
    except ValueError as exc:
        raise CertificateError(f"malformed DER certificate: {exc}") from exc


def _info(cert: Any) -> CertInfo:
    return CertInfo(
        subject_cn=_common_name(cert.subject),
        issuer_cn=_common_name(cert.issuer),
        serial=format(cert.serial_number, "x"),
        not_before=cert.not_valid_before_utc.timestamp(),
        not_after=cert.not_valid_after_utc.timestamp(),
    )


def _common_name(name: Any) -> str:
    attrs = name.get_attributes_for_oid(_x509().NameOID.COMMON_NAME)
    if not attrs:
        return ""
    value = attrs[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")
