"""A small client for Prometheus' `query_range` HTTP API, with TLS and auth options.

Failures are values of one type, `QueryError`, each with a bounded `reason` (the label of
`tocsin_forecast_query_errors_total`) and a message that never carries a credential.
"""

from __future__ import annotations

import base64
import json
import math
import ssl
from dataclasses import dataclass
from typing import Any

import aiohttp

from exporter.forecast.config import PrometheusConfig

REASONS = (
    "unreachable",
    "http_error",
    "bad_response",
    "too_large",
    "empty",
    "not_one_series",
)


class QueryError(Exception):
    """A query that gave no usable series; `reason` is one of REASONS."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class RangeQuery:
    """One `query_range` call: PromQL and a window of Unix seconds."""

    query: str
    start: float
    end: float
    step: float


class PrometheusAPI:
    """One aiohttp session to one Prometheus server; `close()` when done."""

    def __init__(self, config: PrometheusConfig) -> None:
        self._config = config
        headers = {"Accept": "application/json"}
        if config.bearer_token is not None:
            headers["Authorization"] = f"Bearer {config.bearer_token.reveal()}"
        if config.basic_auth is not None:
            # Built by hand: aiohttp's BasicAuth is deprecated and its successor is too new
            # for the aiohttp versions we support.
            pair = f"{config.basic_auth.username}:{config.basic_auth.password.reveal()}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        tls: ssl.SSLContext | bool = True
        if config.url.startswith("https:"):
            tls = config.tls.context()
        self._session = aiohttp.ClientSession(
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=float(config.timeout)),
            connector=aiohttp.TCPConnector(ssl=tls, limit=2),
            # Straight to the configured server, whatever http_proxy says.
            trust_env=False,
        )
        self._server_name = config.tls.server_name

    async def close(self) -> None:
        """Close the session."""
        await self._session.close()

    async def query_range(self, q: RangeQuery) -> list[tuple[float, float]]:
        """The one series `q.query` returns, as (timestamp, value) pairs; raises QueryError."""
        url = self._config.url.rstrip("/") + "/api/v1/query_range"
        form = {"query": q.query, "start": repr(q.start), "end": repr(q.end), "step": repr(q.step)}
        try:
            async with self._session.post(
                url, data=form, server_hostname=self._server_name
            ) as resp:
                body = await self._read_bounded(resp)
                status = resp.status
        except QueryError:
            raise
        except (aiohttp.ClientError, TimeoutError, OSError, ssl.SSLError) as exc:
            raise QueryError("unreachable", f"cannot reach Prometheus: {_describe(exc)}") from exc
        return _parse(status, body)

    async def _read_bounded(self, resp: aiohttp.ClientResponse) -> bytes:
        limit = self._config.max_response_bytes
        body = bytearray()
        async for chunk in resp.content.iter_chunked(1 << 16):
            body.extend(chunk)
            if len(body) > limit:
                raise QueryError("too_large", f"answer larger than max_response_bytes ({limit})")
        return bytes(body)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _parse(status: int, body: bytes) -> list[tuple[float, float]]:
    try:
        doc: Any = json.loads(body)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise QueryError(
            "bad_response" if status < 400 else "http_error", f"HTTP {status}, not JSON"
        )
    if status >= 400 or doc.get("status") != "success":
        error = str(doc.get("error", ""))[:300]
        raise QueryError("http_error", f"HTTP {status}: {error}")
    data = doc.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "matrix":
        raise QueryError("bad_response", "expected a matrix result")
    result = data.get("result")
    if not isinstance(result, list):
        raise QueryError("bad_response", "expected a list of series")
    if not result:
        raise QueryError("empty", "the query returned no series")
    if len(result) > 1:
        raise QueryError("not_one_series", f"the query returned {len(result)} series, expected 1")
    try:
        samples = [(float(t), float(v)) for t, v in result[0]["values"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise QueryError("bad_response", f"malformed samples: {_describe(exc)}") from exc
    # Values may be NaN (gaps); a timestamp may not.
    if not all(math.isfinite(t) for t, _ in samples):
        raise QueryError("bad_response", "malformed samples: a timestamp is not finite")
    return samples
