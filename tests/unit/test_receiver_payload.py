"""The webhook payload parser: valid payloads parse, anything else raises PayloadError."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from receiver.ingest.payload import PayloadError, parse_payload, parse_timestamp

label_names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,10}", fullmatch=True)
labels = st.dictionaries(label_names, st.text(max_size=20), max_size=5)
timestamps = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
alerts = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["firing", "resolved"]),
        "labels": labels,
        "annotations": labels,
        "startsAt": timestamps,
        "endsAt": timestamps,
        "generatorURL": st.text(max_size=20),
        "fingerprint": st.text(min_size=1, max_size=16),
    }
)
payloads = st.fixed_dictionaries(
    {
        "version": st.just("4"),
        "status": st.sampled_from(["firing", "resolved"]),
        "receiver": st.text(max_size=20),
        "groupKey": st.text(max_size=40),
        "alerts": st.lists(alerts, max_size=5),
        "groupLabels": labels,
        "commonLabels": labels,
        "commonAnnotations": labels,
        "externalURL": st.text(max_size=20),
        "truncatedAlerts": st.integers(min_value=0, max_value=100),
    }
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(payloads)
def test_valid_payloads_parse(doc: dict[str, Any]) -> None:
    p = parse_payload(json.loads(json.dumps(doc)))
    assert p.group_key == doc["groupKey"]
    assert [a.fingerprint for a in p.alerts] == [a["fingerprint"] for a in doc["alerts"]]
    assert [a.labels for a in p.alerts] == [a["labels"] for a in doc["alerts"]]


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_arbitrary_json_never_crashes(value: Any) -> None:
    try:
        parse_payload(value)
    except PayloadError as exc:
        assert exc.field


@settings(max_examples=100, deadline=None)
@given(payloads, st.data())
def test_one_corrupted_field_is_named(doc: dict[str, Any], data: st.DataObject) -> None:
    key = data.draw(
        st.sampled_from(
            [
                "version",
                "status",
                "receiver",
                "groupKey",
                "alerts",
                "groupLabels",
                "truncatedAlerts",
            ]
        )
    )
    bad = data.draw(st.sampled_from([None, 12, [1], {"x": 1}, True, "nope"]))
    doc[key] = bad
    compatible = (
        (key in ("receiver", "groupKey") and isinstance(bad, str))
        or (key in ("groupLabels", "truncatedAlerts") and bad is None)
        or (key == "truncatedAlerts" and bad == 12)
    )
    try:
        parse_payload(doc)
    except PayloadError as exc:
        assert not compatible
        assert exc.field.split(".")[0].split("[")[0] == key
        return
    assert compatible


def test_nanosecond_and_zero_timestamps() -> None:
    text, ts = parse_timestamp("2024-01-01T00:00:00.123456789Z", "f")
    assert text.endswith("789Z") and ts == pytest.approx(1704067200.123456)
    assert parse_timestamp("0001-01-01T00:00:00Z", "f")[1] is None
    assert parse_timestamp("2024-01-01T02:00:00+02:00", "f")[1] == 1704067200.0
    with pytest.raises(PayloadError) as err:
        parse_timestamp("2024-13-01T00:00:00Z", "alerts[0].startsAt")
    assert err.value.field == "alerts[0].startsAt"


def test_missing_fingerprint_is_derived_from_labels() -> None:
    doc = {
        "version": "4",
        "status": "firing",
        "receiver": "r",
        "groupKey": "k",
        "alerts": [{"status": "firing", "labels": {"a": "1"}, "startsAt": "2024-01-01T00:00:00Z"}],
    }
    a = parse_payload(doc).alerts[0]
    b = parse_payload(json.loads(json.dumps(doc))).alerts[0]
    assert a.fingerprint == b.fingerprint and len(a.fingerprint) == 16
