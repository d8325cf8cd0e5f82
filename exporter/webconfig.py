"""The `--web.config.file` format of Prometheus' exporter-toolkit: TLS and bcrypt basic auth.

```yaml
tls_server_config:
  cert_file: server.crt
  key_file: server.key
basic_auth_users:
  prometheus: $2y$10$...   # bcrypt hash, e.g. from `htpasswd -nBC 10 "" | tr -d ':\\n'`
```

Relative paths are resolved against the web config file's directory, as exporter-toolkit does.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import aiohttp

from servicekit.loader import Loader
from servicekit.problems import ConfigError, Problem
from servicekit.values import Secret

TLSVersion = Literal["TLS10", "TLS11", "TLS12", "TLS13"]
ClientAuthType = Literal[
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
]

_BCRYPT_RE = re.compile(r"^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$")
_TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
# bcrypt takes a core while it runs; two bound what a wrong-password flood can take.
BCRYPT_WORKERS = 2
# A valid hash of a random password: unknown users cost as much time as known ones.
_DUMMY_HASH = b"$2b$10$wXjzh2aB6RKvHmfPm0LkLeHBlNAxqiic6A2YDggD2/fcN22GKXB0C"


@dataclass
class TLSServerConfig:
    """exporter-toolkit's `tls_server_config` (the subset Python's ssl module can honour)."""

    cert_file: Path
    key_file: Path
    client_auth_type: ClientAuthType = "NoClientCert"
    client_ca_file: Path | None = None
    min_version: TLSVersion = "TLS12"
    max_version: TLSVersion | None = None

    def validate(self) -> list[tuple[str, str]]:
        """Client-certificate verification needs a CA file."""
        if "Verify" in self.client_auth_type and self.client_ca_file is None:
            needed = f"required when client_auth_type is {self.client_auth_type}"
            return [("client_ca_file", needed)]
        return []


@dataclass
class HTTPServerConfig:
    """exporter-toolkit's `http_server_config`; `http2` is accepted and ignored (HTTP/1.1 only)."""

    headers: dict[str, str] = field(default_factory=dict)
    http2: bool = True


@dataclass
class WebConfig:
    """A validated web config file."""

    tls_server_config: TLSServerConfig | None = None
    http_server_config: HTTPServerConfig = field(default_factory=HTTPServerConfig)
    basic_auth_users: dict[str, Secret] = field(default_factory=dict)


def load_web_config(path: str | Path) -> tuple[WebConfig, ssl.SSLContext | None]:
    """Read and validate a web config file and build its TLS context; raises ConfigError."""
    loader, data = Loader.read(path)
    cfg = loader.load(WebConfig, data, "")
    users = data.get("basic_auth_users") if isinstance(data, dict) else None
    # Checked on the raw data so a bad hash is reported even when other keys are wrong too.
    for user, hashed in (users or {}).items() if isinstance(users, dict) else ():
        if isinstance(hashed, str) and not _BCRYPT_RE.match(hashed):
            loader.problem(f"basic_auth_users.{user}", "expected a bcrypt hash ($2y$10$...)")
    if cfg is None:
        raise ConfigError(loader.problems or [Problem(loader.file, "", "invalid web config")])
    context = None
    if cfg.tls_server_config is not None:
        context = _ssl_context(cfg.tls_server_config, loader)
    if loader.problems:
        raise ConfigError(loader.problems)
    return cfg, context


def _ssl_context(tls: TLSServerConfig, loader: Loader) -> ssl.SSLContext | None:
    base = loader.base_dir
    cert = tls.cert_file if tls.cert_file.is_absolute() else base / tls.cert_file
    key = tls.key_file if tls.key_file.is_absolute() else base / tls.key_file
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = _TLS_VERSIONS[tls.min_version]
    if tls.max_version is not None:
        ctx.maximum_version = _TLS_VERSIONS[tls.max_version]
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        loader.problem("tls_server_config.cert_file", f"cannot load {cert} / {key}: {reason}")
        return None
    if tls.client_auth_type != "NoClientCert":
        # Python cannot request a certificate without verifying one it gets, so the
        # "Request"/"IfGiven" modes verify when a CA is configured and accept otherwise.
        required = tls.client_auth_type in ("RequireAnyClientCert", "RequireAndVerifyClientCert")
        ctx.verify_mode = ssl.CERT_REQUIRED if required else ssl.CERT_OPTIONAL
        if tls.client_ca_file is not None:
            ca = tls.client_ca_file
            ca = ca if ca.is_absolute() else base / ca
            try:
                ctx.load_verify_locations(cafile=str(ca))
            except (OSError, ssl.SSLError) as exc:
                reason = getattr(exc, "strerror", None) or str(exc)
                loader.problem("tls_server_config.client_ca_file", f"cannot load {ca}: {reason}")
                return None
    return ctx


class BasicAuth:
    """Checks `Authorization: Basic` headers against bcrypt hashes.

    bcrypt is slow on purpose (tens of milliseconds), so a verified password is remembered
    per user as a SHA-256 digest and later requests compare digests in constant time.
    Uncached checks run in this object's own small pool (`workers` threads), never in the
    pool metric collection uses, and at most `max_pending` wait for it: a flood of wrong
    passwords queues behind itself, not in front of scrapes.
    """

    realm = 'Basic realm="tocsin-exporter", charset="UTF-8"'

    def __init__(
        self, users: dict[str, Secret], workers: int = BCRYPT_WORKERS, max_pending: int = 16
    ) -> None:
        self._hashes = {user: hashed.reveal().encode() for user, hashed in users.items()}
        self._verified: dict[str, bytes] = {}
        self._lock = threading.Lock()
        # Threads start on first use: a server whose scrapers all hit the cache has none.
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bcrypt")
        self.max_pending = max_pending
        self._pending = 0

    async def verify(self, user: str, password: str) -> bool | None:
        """`check` in the bcrypt pool; None, without checking, when `max_pending` checks
        are already waiting."""
        if self._pending >= self.max_pending:
            return None
        self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, self.check, user, password)
        finally:
            self._pending -= 1

    def close(self) -> None:
        """Stop the bcrypt pool (checks not started yet are dropped)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    def parse(header: str | None) -> tuple[str, str] | None:
        """(user, password) from an Authorization header, or None unless it is valid Basic
        (credentials in UTF-8, as the realm's charset says)."""
        if not header:
            return None
        # aiohttp takes exactly one space after the scheme and none after the credentials.
        scheme, _, encoded = header.partition(" ")
        try:
            credentials = aiohttp.BasicAuth.decode(f"{scheme} {encoded.strip()}", encoding="utf-8")
        except ValueError:
            return None
        return credentials.login, credentials.password

    def check_cached(self, user: str, password: str) -> bool | None:
        """True when this password was verified before; None when bcrypt must decide."""
        remembered = self._verified.get(user)
        if remembered is None:
            return None
        if hmac.compare_digest(remembered, _digest(user, password)):
            return True
        return None

    def check(self, user: str, password: str) -> bool:
        """Verify with bcrypt (blocking; `verify` runs it in the pool) and remember a success."""
        # Imported on first use: only a server with basic auth pays its ~0.4 MB of RSS.
        import bcrypt

        hashed = self._hashes.get(user)
        try:
            ok = bcrypt.checkpw(password.encode(), hashed or _DUMMY_HASH)
        except ValueError:
            ok = False
        ok = ok and hashed is not None
        if ok:
            with self._lock:
                self._verified[user] = _digest(user, password)
        return ok


def _digest(user: str, password: str) -> bytes:
    return hashlib.sha256(f"{user}\0{password}".encode()).digest()
