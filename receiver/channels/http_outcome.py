"""A provider's HTTP answer as a SendResult: 2xx ok, 429/408/5xx retry (with Retry-After),
other 4xx permanent."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any

import aiohttp

from receiver.channels.base import SendResult

# What is read of a provider's answer: enough for any JSON reply and for an error page's
# start; a hostile or broken endpoint streaming gigabytes costs no more. The answer is
# clipped for storage only after redaction (`SendResult.scrubbed`), so a secret on the
# clipping boundary cannot be left half shown.
MAX_ANSWER_CHARS = 64 * 1024


async def read_answer(resp: aiohttp.ClientResponse) -> str:
    """The start of a provider's answer body (at most MAX_ANSWER_CHARS bytes), decoded."""
    raw = await resp.content.read(MAX_ANSWER_CHARS)
    return raw.decode(resp.get_encoding() if resp.charset else "utf-8", errors="replace")


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
    snippet = body[:MAX_ANSWER_CHARS]
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
