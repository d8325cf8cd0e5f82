"""The `webhook` channel: JSON POST of the notification, optional HMAC-SHA256 signature.

Outcome classes follow Alertmanager's notifiers: 2xx delivered; 5xx, 429, timeouts and
connection errors retryable (honouring Retry-After); any other 4xx permanent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import aiohttp

from receiver import __version__
from receiver.channels.base import SendResult, register
from receiver.channels.http_outcome import read_answer
from receiver.channels.redact import basic_auth
from receiver.channels.session import SessionChannel
from receiver.model.notification import Notification
from receiver.templates import TemplateRenderer
from servicekit.redaction import url_secret_parts
from servicekit.values import Duration, Secret

# Custom headers whose value is a credential (`X-Api-Key`, `X-Auth-Token`, `Cookie`).
_CREDENTIAL_HEADER = re.compile(r"(?i)auth|token|key|secret|passw|cookie|signature")


@dataclass
class WebhookChannelConfig:
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    bearer_token: Secret | None = None
    hmac_secret: Secret | None = None
    signature_header: str = "X-Tocsin-Signature"
    timeout: Duration = Duration(10)

    def validate(self) -> list[tuple[str, str]]:
        # The URL is not shown: it may carry a password or a token.
        if not self.url.startswith(("http://", "https://")):
            return [("url", "expected an http:// or https:// URL")]
        return []


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or HTTP date); None when absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def body_of(n: Notification, action_links: dict[str, str] | None = None) -> bytes:
    """The JSON document posted for a notification (with `action_links`, signed ack /
    resolve / open URLs, when links are configured)."""
    doc: dict[str, Any] = {
        "version": "1",
        "kind": n.kind,
        "channel": n.channel,
        "notification_id": n.id,
        "idempotency_key": n.idempotency_key,
        "correlation_id": n.correlation_id,
        "escalation_step": n.escalation_step,
        "attempt": n.attempt,
        "incident": n.incident,
        "digest": n.digest,
    }
    if action_links:
        doc["action_links"] = action_links
    return json.dumps(doc, sort_keys=True).encode()


@register
class WebhookChannel(SessionChannel):
    """POSTs JSON to `url`."""

    type = "webhook"
    Config = WebhookChannelConfig

    def __init__(self, name: str, config: WebhookChannelConfig, templates: object) -> None:
        super().__init__(name, config, templates)
        self.config: WebhookChannelConfig = config

    def secrets(self) -> list[str]:
        """The bearer token, the URL's userinfo password (and the Basic credentials aiohttp
        sends it in), its long query values (tokens passed as `?token=...`), and the values
        of credential headers."""
        found = [*super().secrets(), *url_secret_parts(self.config.url, whole=False)]
        url = urlsplit(self.config.url)
        if url.password:
            found.append(basic_auth(unquote(url.username or ""), unquote(url.password)))
        found += [v for k, v in self.config.headers.items() if _CREDENTIAL_HEADER.search(k)]
        return found

    def session_options(self) -> dict[str, Any]:
        return {
            **super().session_options(),
            "headers": {"User-Agent": f"tocsin-receiver/{__version__}"},
        }

    def headers_for(self, n: Notification, body: bytes) -> dict[str, str]:
        """Custom headers plus content type, correlation, idempotency and signature."""
        headers = dict(self.config.headers)
        headers["Content-Type"] = "application/json"
        headers["X-Request-ID"] = n.correlation_id
        headers["Idempotency-Key"] = n.idempotency_key
        if self.config.bearer_token is not None:
            headers["Authorization"] = f"Bearer {self.config.bearer_token.reveal()}"
        if self.config.hmac_secret is not None:
            mac = hmac.new(self.config.hmac_secret.reveal().encode(), body, hashlib.sha256)
            headers[self.config.signature_header] = f"sha256={mac.hexdigest()}"
        return headers

    def _action_links(self, n: Notification) -> dict[str, str]:
        if not isinstance(self.templates, TemplateRenderer):
            return {}
        return self.templates.action_links(
            {"id": n.incident.get("id"), "kind": n.kind, "channel": self.name}
        )

    async def deliver(self, notification: Notification) -> SendResult:
        session = await self.session()
        body = body_of(notification, self._action_links(notification))
        try:
            async with session.post(
                self.config.url, data=body, headers=self.headers_for(notification, body)
            ) as resp:
                text = await read_answer(resp)
                status = str(resp.status)
                if 200 <= resp.status < 300:
                    return SendResult.delivered(status=status, response=text)
                error = f"HTTP {resp.status}: {text}"
                if resp.status >= 500 or resp.status == 429:
                    return SendResult.retryable(
                        error, parse_retry_after(resp.headers.get("Retry-After")), status
                    )
                return SendResult.permanent(error, status)
        except TimeoutError:
            return SendResult.retryable(f"timeout after {float(self.config.timeout)}s")
        except (aiohttp.ClientError, OSError) as exc:
            return SendResult.retryable(f"{type(exc).__name__}: {exc}")
