"""Our renderers against prometheus_client's, byte for byte.

prometheus_client is the reference here only: the exporter renders with its own code.
Every collector's output (live host and fixture trees), the exporter's self-metrics, and
random families from Hypothesis (odd names, label values with quotes, newlines,
backslashes and unicode, special floats, every metric type) must render identically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from prometheus_client.exposition import generate_latest as reference_text
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
    StateSetMetricFamily,
    SummaryMetricFamily,
    UnknownMetricFamily,
)
from prometheus_client.openmetrics.exposition import generate_latest as reference_om
from prometheus_client.samples import Exemplar, Sample, Timestamp
from prometheus_client.utils import floatToGoString as _reference_float

from exporter.collector import CollectorContext, CollectorUnavailable, HostPaths
from exporter.discovery import available
from exporter.exposition import finish_openmetrics, go_float, render_openmetrics, render_text
from exporter.families import Family, gauge
from exporter.scrape import Collection, CollectorEntry
from tests.conftest import FIXTURES
from tests.registry import Families

FIXTURE_PATHS = HostPaths(
    procfs=FIXTURES / "proc", sysfs=FIXTURES / "sys", rootfs=FIXTURES / "rootfs"
)


def floatToGoString(value: float) -> str:
    result: str = _reference_float(value)  # type: ignore[no-untyped-call]
    return result


def _reference(families: Sequence[Metric]) -> tuple[bytes | None, bytes | None]:
    """(text, OpenMetrics) from prometheus_client; None where it raises."""
    out: list[bytes | None] = []
    for render in (reference_text, reference_om):
        try:
            out.append(render(Families(families)))
        except Exception:
            out.append(None)
    return out[0], out[1]


def _ours(families: Sequence[Metric]) -> tuple[bytes | None, bytes | None]:
    text: bytes | None
    om: bytes | None
    try:
        text = render_text(families)
    except Exception:
        text = None
    try:
        om = finish_openmetrics([render_openmetrics(families)])
    except Exception:
        om = None
    return text, om


def assert_same(families: Sequence[Metric]) -> None:
    """Both formats equal prometheus_client's bytes, or both renderers refuse."""
    ref_text, ref_om = _reference(families)
    text, om = _ours(families)
    assert text == ref_text
    assert om == ref_om


def _collect(name: str, paths: HostPaths, state: Path) -> list[Metric]:
    cls = available()[name]
    config = cls.Config() if cls.Config is not None else None
    try:
        collector = cls(CollectorContext(paths=paths, config=config, state_dir=state))
        return list(collector.collect())
    except CollectorUnavailable:
        pytest.skip(f"{name} is unavailable here")


@pytest.mark.parametrize("where", ["live", "fixtures"])
@pytest.mark.parametrize("name", sorted(available()))
def test_every_collector_renders_like_prometheus_client(
    name: str, where: str, tmp_path: Path
) -> None:
    paths = HostPaths() if where == "live" else FIXTURE_PATHS
    families = _collect(name, paths, tmp_path)
    assert_same(families)


def test_self_metrics_and_whole_collection_render_like_prometheus_client(
    tmp_path: Path,
) -> None:
    entries = []
    for name, cls in sorted(available().items()):
        config = cls.Config() if cls.Config is not None else None
        ctx = CollectorContext(paths=FIXTURE_PATHS, config=config, state_dir=tmp_path)
        try:
            entries.append(CollectorEntry(name, 10.0, cls(ctx)))
        except CollectorUnavailable:
            continue
    collection = Collection(entries)
    try:
        snap = collection.run()
    finally:
        collection.shutdown()
    families = [f for outcome in snap.outcomes for f in outcome.families]
    assert len(families) > 50
    assert_same(families)
    ref_text, ref_om = _reference(families)
    assert snap.render(False)[0] == ref_text
    assert snap.render(True)[0] == ref_om


SPECIAL_FLOATS = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.1,
    1e-5,
    123456.0,
    999999.9999999999,
    1e6,
    1234567.0,
    12345678.9,
    1e15,
    9999999999999998.0,
    1e16,
    1.5e22,
    -1234567.0,
    -1e22,
    math.inf,
    -math.inf,
    math.nan,
    5e-324,
    1.7976931348623157e308,
]


@pytest.mark.parametrize("value", SPECIAL_FLOATS)
def test_go_float_special_values(value: float) -> None:
    assert go_float(value) == floatToGoString(value)


@given(st.one_of(st.floats(), st.integers(min_value=-(2**70), max_value=2**70), st.booleans()))
def test_go_float_matches_prometheus_client(value: float) -> None:
    assert go_float(value) == floatToGoString(value)


# Whole numbers between 1e6 and 1e16 (bytes, counters) take a path of their own; the
# second call of each comes from the table of values already seen.
@given(st.integers(min_value=10**6, max_value=10**16).map(float))
def test_go_float_of_big_whole_numbers_matches_prometheus_client(value: float) -> None:
    assert go_float(value) == floatToGoString(value)
    assert go_float(value) == floatToGoString(value)


# Names: mostly plausible, sometimes anything (prometheus_client accepts UTF-8 names and
# escapes them with underscores; colons, leading digits and trailing newlines are corners).
_name_alphabet = st.sampled_from('abcXYZ_:09\n é-."\\')
names = st.one_of(
    st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,12}", fullmatch=True),
    st.text(_name_alphabet, min_size=1, max_size=10),
    st.text(min_size=1, max_size=6),
)
label_names = st.one_of(
    st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,8}", fullmatch=True),
    st.text(_name_alphabet, min_size=1, max_size=8),
)
label_values = st.one_of(
    st.text(st.sampled_from('ab"\\\n\té€😀{}=,'), max_size=10),
    st.text(max_size=10),
)
docs = st.text(max_size=30)
values = st.one_of(
    st.floats(),
    st.sampled_from(SPECIAL_FLOATS),
    st.integers(min_value=-(10**20), max_value=10**20),
)
timestamps = st.one_of(
    st.none(),
    st.floats(min_value=0, max_value=4e9),
    st.builds(Timestamp, st.integers(0, 2**32), st.integers(0, 999_999_999)),
)
units = st.sampled_from(["", "", "seconds", "bytes"])


def _labelled(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    keys = draw(st.lists(label_names, max_size=3, unique=True))
    rows = draw(st.lists(st.lists(label_values, min_size=len(keys), max_size=len(keys))))
    return keys, rows


def _with_unit(name: str, unit: str) -> str:
    return name if not unit else f"{name}_{unit}"


@st.composite
def families(draw: st.DrawFn) -> Metric:
    kind = draw(
        st.sampled_from(
            [
                "gauge",
                "counter",
                "unknown",
                "summary",
                "histogram",
                "gaugehistogram",
                "info",
                "stateset",
                "raw",
            ]
        )
    )
    name = draw(names)
    doc = draw(docs)
    keys, rows = _labelled(draw)
    family: Metric
    if kind == "gauge":
        gauge = GaugeMetricFamily(name, doc, labels=keys, unit=draw(units))
        for row in rows:
            gauge.add_metric(row, draw(values), timestamp=draw(timestamps))
        family = gauge
    elif kind == "counter":
        counter = CounterMetricFamily(name, doc, labels=keys, unit=draw(units))
        for row in rows:
            created = draw(st.one_of(st.none(), st.floats(min_value=0, max_value=4e9)))
            exemplar = draw(
                st.one_of(
                    st.none(),
                    st.builds(
                        Exemplar,
                        st.dictionaries(label_names, label_values, max_size=2),
                        values,
                        timestamps,
                    ),
                )
            )
            counter.add_metric(row, draw(values), created=created, exemplar=exemplar)
        family = counter
    elif kind == "unknown":
        unknown = UnknownMetricFamily(name, doc, labels=keys)
        for row in rows:
            unknown.add_metric(row, draw(values))
        family = unknown
    elif kind == "summary":
        summary = SummaryMetricFamily(name, doc, labels=keys)
        for row in rows:
            summary.add_metric(row, draw(st.integers(0, 10**9)), draw(values))
        family = summary
    elif kind in ("histogram", "gaugehistogram"):
        bounds = sorted(set(draw(st.lists(st.floats(allow_nan=False), max_size=4))))
        buckets = [(go_float(b), draw(st.integers(0, 10**6))) for b in bounds]
        buckets.append(("+Inf", draw(st.integers(0, 10**6))))
        if kind == "histogram":
            hist = HistogramMetricFamily(name, doc, labels=keys)
            for row in rows:
                hist.add_metric(row, buckets, draw(values))
            family = hist
        else:
            ghist = GaugeHistogramMetricFamily(name, doc, labels=keys)
            for row in rows:
                ghist.add_metric(row, buckets, draw(values))
            family = ghist
    elif kind == "info":
        info = InfoMetricFamily(name, doc, labels=keys)
        for row in rows:
            info.add_metric(row, draw(st.dictionaries(label_names, label_values, max_size=2)))
        family = info
    elif kind == "stateset":
        stateset = StateSetMetricFamily(name, doc, labels=keys)
        for row in rows:
            states = draw(st.dictionaries(label_values, st.booleans(), max_size=3))
            stateset.add_metric(row, states)
        family = stateset
    else:
        # A hand-built family: sample names that need not share the family's name.
        family = Metric(name, doc, draw(st.sampled_from(["gauge", "counter", "untyped"])))
        for _ in range(draw(st.integers(0, 3))):
            sample_name = draw(st.one_of(names, st.just(name + "_created")))
            labels = draw(st.dictionaries(label_names, label_values, max_size=3))
            value = draw(st.one_of(values, st.none()))
            family.samples.append(Sample(sample_name, labels, value, draw(timestamps)))  # type: ignore[arg-type]
    return family


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(families(), max_size=4))
def test_random_families_render_like_prometheus_client(fams: list[Metric]) -> None:
    assert_same(fams)


def test_escaping_corners_are_exact() -> None:
    gauge = GaugeMetricFamily(
        "weird:name-é", 'help with "quotes", \\ and\nnewline', labels=["__a", "0b", "c\n"]
    )
    gauge.add_metric(['q"uote', "back\\slash", "new\nline😀"], math.nan)
    gauge.add_metric(["", "", ""], -math.inf)
    counter = CounterMetricFamily("c:total", "c", labels=["x"], created=None)
    counter.add_metric(["1"], 1234567.0, created=1.5)
    families = [gauge, counter]
    assert_same(families)
    text = render_text(families).decode()
    assert 'weird:name__{_b="back\\\\slash",__a="q\\"uote",c\n="new\\nline😀"} NaN' in text
    assert 'c:total_total{x="1"} 1.234567e+06\n# HELP c:total_created c\n' in text
    assert '\nc:total_created{x="1"} 1.5\n' in text


_REFERENCE_TYPES = {
    "gauge": GaugeMetricFamily,
    "counter": CounterMetricFamily,
    "unknown": UnknownMetricFamily,
}


@st.composite
def our_families(draw: st.DrawFn) -> tuple[Family, Metric]:
    """One of our own Family objects and the prometheus_client family with the same data."""
    kind = draw(st.sampled_from(sorted(_REFERENCE_TYPES)))
    name = draw(st.one_of(names, names.map(lambda n: n + "_total")))
    doc = draw(docs)
    keys, rows = _labelled(draw)
    try:
        reference = _REFERENCE_TYPES[kind](name, doc, labels=keys)
    except ValueError:
        assume(False)
    ours = Family(name, doc, kind, keys)
    for row in rows:
        value = draw(values)
        ours.add_metric(row, value)
        reference.add_metric(row, value)
    if draw(st.booleans()):
        ours.freeze()
    return ours, reference


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(our_families(), max_size=4))
def test_our_families_render_like_prometheus_clients_own(
    pairs: list[tuple[Family, Metric]],
) -> None:
    ours = [f for f, _ in pairs]
    reference = [r for _, r in pairs]
    ref_text, ref_om = _reference(reference)
    # Twice: a frozen family's second rendering comes from its kept text.
    for _ in range(2):
        assert _ours(ours) == (ref_text, ref_om)
    # Its samples, for whoever reads them, are prometheus_client's too.
    assert [f.samples for f in ours] == [r.samples for r in reference]


def test_a_frozen_family_refuses_new_samples() -> None:
    family = gauge("test_frozen", "Frozen.", labels=["a"])
    family.add_metric(["x"], 1.0)
    family.freeze()
    with pytest.raises(ValueError, match="frozen"):
        family.add_metric(["y"], 2.0)
    assert render_text([family]) == reference_text(Families([family]))
