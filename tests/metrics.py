"""The one metrics scraper: fetch a /metrics page, parse Prometheus text exposition into
samples keyed by name and sorted labels, pick values out, poll until a condition holds."""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Callable
from typing import Protocol

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


def value(found: Series, name: str, **labels: str) -> float | None:
    """The sample of `name` with exactly `labels`, or None."""
    return found.get((name, tuple(sorted(labels.items()))))


def matching(found: Series, name: str, **labels: str) -> dict[Labels, float]:
    """Every sample of `name` that has `labels` (among others), by its labels."""
    return {
        k: v
        for (n, k), v in found.items()
        if n == name and all(dict(k).get(a) == b for a, b in labels.items())
    }


def total(found: Series, name: str, **labels: str) -> float:
    """The sum of every sample of `name` that has `labels` (among others)."""
    return sum(matching(found, name, **labels).values(), 0.0)


_SELECTOR = re.compile(r"(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"\s*,?')


def selected(found: Series, selector: str) -> float:
    """The sum of the samples `selector` picks: `name` or `name{label="value",...}`, where
    every label given must match and others may be there too."""
    match = _SELECTOR.fullmatch(selector)
    if match is None:
        raise ValueError(f"not a selector: {selector!r}")
    labels = dict(_LABEL.findall(match["labels"] or ""))
    return total(found, match["name"], **labels)


def by_label(found: Series, name: str, label: str) -> dict[str, float]:
    """The samples of `name` by the value of one of their labels."""
    return {dict(k)[label]: v for k, v in matching(found, name).items()}


def fetch_metrics(port: int) -> str:
    """The body of http://127.0.0.1:`port`/metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        return str(resp.read().decode())


def scrape_series(port: int) -> Series:
    """One scrape of 127.0.0.1:`port`, parsed."""
    return parse_series(fetch_metrics(port))


def scrape(port: int) -> tuple[str, Series]:
    """One scrape of 127.0.0.1:`port`: the body and its samples."""
    text = fetch_metrics(port)
    return text, parse_series(text)


def poll(port: int, ready: Callable[[Series], bool], timeout: float = 30.0) -> Series:
    """Scrape until `ready` holds (bounded); returns the last scrape either way."""
    deadline = time.monotonic() + timeout
    found = scrape_series(port)
    while not ready(found) and time.monotonic() < deadline:
        time.sleep(0.1)
        found = scrape_series(port)
    return found


class Server(Protocol):
    """A running server with /metrics and a log (an ExporterProcess, say)."""

    @property
    def port(self) -> int: ...

    def log(self) -> str: ...


def wait_until(server: Server, check: Callable[[Series], bool], timeout: float = 30.0) -> Series:
    """Scrape `server` until `check` holds; fail with the last scrape and its log if it
    does not within `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        found = scrape_series(server.port)
        if check(found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; last scrape: {found}\n{server.log()}")
        time.sleep(0.05)
