"""Reading Prometheus text exposition in tests: samples keyed by name and sorted labels."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

Labels = tuple[tuple[str, str], ...]
Series = dict[tuple[str, Labels], float]


def parse_series(text: str) -> Series:
    """Every sample in `text` as {(name, sorted labels): value}."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def fetch_metrics(port: int) -> str:
    """The body of http://127.0.0.1:`port`/metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        return str(resp.read().decode())


def scrape_series(port: int) -> Series:
    """One scrape of 127.0.0.1:`port`, parsed."""
    return parse_series(fetch_metrics(port))
