"""Content negotiation for /metrics."""

from __future__ import annotations

import pytest

from exporter.exposition import accepts_gzip, wants_openmetrics
from tests.conftest import PROMETHEUS_ACCEPT


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (PROMETHEUS_ACCEPT, True),
        ("application/openmetrics-text", True),
        ("application/openmetrics-text; version=1.0.0, text/plain", True),
        ("text/plain;version=0.0.4", False),
        ("text/plain, application/openmetrics-text;q=0.5", False),
        ("application/openmetrics-text;q=0", False),
        ("*/*", False),
        ("", False),
        ("garbage;;;,", False),
        ("application/openmetrics-text;q=bogus", False),
    ],
)
def test_wants_openmetrics(accept: str, expected: bool) -> None:
    assert wants_openmetrics(accept) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("GZIP", True),
        ("deflate", False),
        ("gzip;q=0", False),
        ("*", True),
        ("*, gzip;q=0", False),
        ("identity", False),
        ("", False),
    ],
)
def test_accepts_gzip(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected
