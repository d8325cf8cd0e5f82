"""exporter-toolkit web config files: validation, TLS context, bcrypt basic auth."""

from __future__ import annotations

import base64
import ssl
from pathlib import Path

import pytest

from exporter.webconfig import BasicAuth, load_web_config
from servicekit.problems import ConfigError
from servicekit.values import Secret
from tests.conftest import FIXTURES, self_signed_cert

WEBCONFIG = FIXTURES / "webconfig"


def test_every_problem_is_reported_with_its_key() -> None:
    with pytest.raises(ConfigError) as err:
        load_web_config(WEBCONFIG / "invalid.yml")
    text = str(err.value)
    file = str(WEBCONFIG / "invalid.yml")
    assert f"{file}: tls_server_config.min_version: expected one of" in text
    assert f"{file}: http_server_config.headerz: unknown key" in text
    assert f"{file}: basic_auth_users.alice: expected a bcrypt hash" in text
    assert "plaintext-password" not in text


def test_hash_and_certificate_problems(tmp_path: Path) -> None:
    path = tmp_path / "web.yml"
    path.write_text(
        "tls_server_config: {cert_file: nope.crt, key_file: nope.key}\n"
        "basic_auth_users: {alice: plaintext}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_web_config(path)
    text = str(err.value)
    assert f"{path}: basic_auth_users.alice: expected a bcrypt hash" in text
    assert f"{path}: tls_server_config.cert_file: cannot load {tmp_path}/nope.crt" in text
    assert "plaintext" not in text


def test_client_ca_is_required_for_verification(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path)
    path = tmp_path / "web.yml"
    path.write_text(
        f"tls_server_config:\n  cert_file: {cert.name}\n  key_file: {key.name}\n"
        "  client_auth_type: RequireAndVerifyClientCert\n"
    )
    with pytest.raises(ConfigError, match="client_ca_file: required when client_auth_type"):
        load_web_config(path)


def test_tls_context_from_relative_paths(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path)
    path = tmp_path / "web.yml"
    path.write_text(
        f"tls_server_config:\n  cert_file: {cert.name}\n  key_file: {key.name}\n"
        "  min_version: TLS13\n"
    )
    cfg, ctx = load_web_config(path)
    assert cfg.tls_server_config is not None
    assert isinstance(ctx, ssl.SSLContext)
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_3


def test_basic_auth_checks_bcrypt_and_remembers_successes() -> None:
    cfg, ctx = load_web_config(WEBCONFIG / "basic_auth.yml")
    assert ctx is None
    auth = BasicAuth(cfg.basic_auth_users)
    assert auth.check_cached("prometheus", "prom-password") is None
    assert auth.check("prometheus", "wrong") is False
    assert auth.check("nobody", "prom-password") is False
    assert auth.check("prometheus", "prom-password") is True
    assert auth.check_cached("prometheus", "prom-password") is True
    assert auth.check_cached("prometheus", "prom-password!") is None
    assert "prom" not in repr(cfg.basic_auth_users["prometheus"])


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("Bearer abc", None),
        ("Basic " + base64.b64encode(b"u:p:w").decode(), ("u", "p:w")),
        ("basic " + base64.b64encode(b"u:").decode(), ("u", "")),
        ("Basic " + base64.b64encode(b"no-colon").decode(), None),
        ("Basic %%%", None),
        ("Basic " + base64.b64encode(b"\xff:x").decode(), None),
        # Spaces around the credentials are ignored, as the hand-written parser did.
        ("Basic  " + base64.b64encode(b"u:p").decode(), ("u", "p")),
        ("Basic " + base64.b64encode(b"u:p").decode() + " ", ("u", "p")),
        ("Basic", None),
    ],
)
def test_parse_authorization_header(header: str | None, expected: tuple[str, str] | None) -> None:
    assert BasicAuth.parse(header) == expected


def test_malformed_stored_hash_never_authenticates() -> None:
    auth = BasicAuth({"u": Secret("$2y$04$short")})
    assert auth.check("u", "anything") is False
