"""Rendering metric families (Prometheus text 0.0.4, OpenMetrics 1.0.0, gzip) and choosing one.

Header parsing is memoised: scrapers send the same Accept and Accept-Encoding on every
request, so the hot path does a dictionary lookup instead of parsing.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Sequence
from functools import lru_cache

from prometheus_client.exposition import generate_latest as _text_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.exposition import generate_latest as _om_latest

TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
_OM_EOF = b"# EOF\n"


class _Families:
    """The registry-shaped object prometheus_client's renderers expect."""

    def __init__(self, families: Sequence[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


def render_text(families: Sequence[Metric]) -> bytes:
    """Prometheus text format 0.0.4; blocks for different families concatenate validly."""
    return _text_latest(_Families(families))


def render_openmetrics(families: Sequence[Metric]) -> bytes:
    """OpenMetrics 1.0.0 without the closing `# EOF`, so parts can be concatenated."""
    body: bytes = _om_latest(_Families(families), version="1.0.0")  # type: ignore[no-untyped-call]
    return body.removesuffix(_OM_EOF)


def finish_openmetrics(parts: Iterable[bytes]) -> bytes:
    """Join OpenMetrics parts and close the exposition."""
    return b"".join(parts) + _OM_EOF


def compress(body: bytes) -> bytes:
    """gzip with a fixed mtime, so equal bodies give equal bytes."""
    return gzip.compress(body, compresslevel=6, mtime=0)


def _media_ranges(header: str) -> list[tuple[str, float]]:
    ranges = []
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        ranges.append((media, q))
    return ranges


@lru_cache(maxsize=256)
def wants_openmetrics(accept: str) -> bool:
    """True when the Accept header prefers OpenMetrics at least as much as plain text."""
    om_q = 0.0
    text_q = 0.0
    for media, q in _media_ranges(accept):
        if media == "application/openmetrics-text":
            om_q = max(om_q, q)
        elif media in ("text/plain", "text/*", "*/*"):
            text_q = max(text_q, q)
    return om_q > 0 and om_q >= text_q


@lru_cache(maxsize=256)
def accepts_gzip(accept_encoding: str) -> bool:
    """True when Accept-Encoding allows gzip (explicitly or through `*`)."""
    star = False
    for coding, q in _media_ranges(accept_encoding):
        if coding in ("gzip", "x-gzip"):
            return q > 0
        if coding == "*":
            star = q > 0
    return star
