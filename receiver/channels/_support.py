"""Helpers shared by the provider channels: colours, HTTP outcome classification, redaction."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

from receiver.channels.base import SendResult
from receiver.model.notification import Notification
from servicekit.redaction import replace_secrets
from servicekit.values import Secret

SEVERITY_COLOURS = {
    "critical": 0xD32F2F,
    "error": 0xE64A19,
    "warning": 0xF9A825,
    "info": 0x1976D2,
}
RESOLVED_COLOUR = 0x2E7D32
ACKED_COLOUR = 0x7B1FA2
TEST_COLOUR = 0x616161


def colour(notification: Notification) -> int:
    """A message colour (RGB) for the notification's kind and incident severity."""
    if notification.kind == "resolved":
        return RESOLVED_COLOUR
    if notification.kind == "test":
        return TEST_COLOUR
    if notification.kind == "acknowledged":
        return ACKED_COLOUR
    severity = str(notification.incident.get("severity") or "")
    return SEVERITY_COLOURS.get(severity, TEST_COLOUR)


def hex_colour(value: int) -> str:
    """`#rrggbb` for an RGB integer."""
    return f"#{value:06x}"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def classify_status(
    status: int, body: str, headers: Mapping[str, Any] | None = None, what: str = "provider"
) -> SendResult:
    """Turn a provider's HTTP answer into a SendResult: 2xx ok, 429/5xx retry, 4xx permanent."""
    snippet = body[:500]
    if 200 <= status < 300:
        return SendResult.delivered(status=str(status), response=snippet)
    retry_after = parse_retry_after(_header(headers, "Retry-After"))
    if status == 429:
        return SendResult.retryable(
            f"{what} rate limited the request (HTTP 429): {snippet}",
            retry_after=retry_after,
            status=str(status),
        )
    if status >= 500 or status == 408:
        return SendResult.retryable(
            f"{what} answered HTTP {status}: {snippet}",
            retry_after=retry_after,
            status=str(status),
        )
    return SendResult.permanent(
        f"{what} refused the request (HTTP {status}): {snippet}", str(status)
    )


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if str(key).lower() == name.lower():
            if isinstance(value, list | tuple):
                return str(value[0]) if value else None
            return str(value)
    return None


def json_preview(document: Any) -> str:
    """A request body as `tocsin-receiver render` shows it: indented, non-ASCII kept."""
    return json.dumps(document, indent=2, ensure_ascii=False)


def describe_exception(exc: BaseException, secrets: Iterable[str | Secret | None]) -> str:
    """`Type: message` for an exception, with secrets removed."""
    message = str(exc) or repr(exc)
    return replace_secrets(f"{type(exc).__name__}: {message}", secrets)


def secret_url_parts(url: str) -> list[str]:
    """The parts of a webhook URL that carry its secret: the whole URL and its path+query."""
    parts = [url]
    scheme_end = url.find("://")
    if scheme_end >= 0:
        path_start = url.find("/", scheme_end + 3)
        if path_start >= 0 and len(url) - path_start > 1:
            parts.append(url[path_start:])
    return parts
