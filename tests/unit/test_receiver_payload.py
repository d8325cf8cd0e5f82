"""The webhook payload parser: valid payloads parse, anything else raises PayloadError."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from receiver.model.payload import (
    ANNOTATIONS_MAX,
    INT64_MAX,
    LABELS_MAX,
    STRING_MAX,
    TIMESTAMP_MAX,
    PayloadError,
    parse_payload,
    parse_timestamp,
)

# Storable text: no NUL (refused at ingest); st.text never draws lone surrogates.
chars = st.characters(codec="utf-8", exclude_characters="\x00")
texts = st.text(chars, max_size=20)
label_names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,10}", fullmatch=True)
labels = st.dictionaries(label_names, texts, max_size=5)
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
        "generatorURL": texts,
        "fingerprint": st.text(chars, min_size=1, max_size=16),
    }
)
payloads = st.fixed_dictionaries(
    {
        "version": st.just("4"),
        "status": st.sampled_from(["firing", "resolved"]),
        "receiver": texts,
        "groupKey": texts,
        "alerts": st.lists(alerts, max_size=5),
        "groupLabels": labels,
        "commonLabels": labels,
        "commonAnnotations": labels,
        "externalURL": texts,
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


def test_timestamps_longer_than_the_cap_are_refused_before_parsing() -> None:
    longest = "2024-01-01T00:00:00." + "1" * (TIMESTAMP_MAX - 26) + "+02:00"
    assert len(longest) == TIMESTAMP_MAX and parse_timestamp(longest, "f")[1] is not None
    with pytest.raises(PayloadError) as err:
        parse_timestamp(longest[:20] + "1" + longest[20:], "alerts[3].endsAt")
    assert err.value.field == "alerts[3].endsAt" and "64-character" in err.value.message


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


def _doc(**alert: Any) -> dict[str, Any]:
    return {
        "version": "4",
        "status": "firing",
        "receiver": "r",
        "groupKey": "k",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "A"},
                "startsAt": "2024-01-01T00:00:00Z",
                **alert,
            }
        ],
    }


def _field_of(doc: dict[str, Any]) -> str:
    with pytest.raises(PayloadError) as err:
        parse_payload(json.loads(json.dumps(doc)))
    return err.value.field


def test_truncated_alerts_must_fit_sqlite_int64() -> None:
    doc = _doc()
    doc["truncatedAlerts"] = INT64_MAX
    assert parse_payload(doc).truncated_alerts == INT64_MAX
    doc["truncatedAlerts"] = 10**30
    assert _field_of(doc) == "truncatedAlerts"
    doc["truncatedAlerts"] = INT64_MAX + 1
    assert _field_of(doc) == "truncatedAlerts"


def test_lone_surrogates_and_nul_are_refused_naming_the_field() -> None:
    # The JSON escape \ud800 decodes to a lone surrogate, which no UTF-8 output (mail,
    # HTTP bodies) can carry.
    text = '{"version": "4", "status": "firing", "receiver": "r", "groupKey": "k", "alerts":'
    text += ' [{"status": "firing", "labels": {"alertname": "\\ud800bad"}, "startsAt":'
    text += ' "2024-01-01T00:00:00Z"}]}'
    doc = json.loads(text)
    assert doc["alerts"][0]["labels"]["alertname"] == "\ud800bad"
    with pytest.raises(PayloadError) as err:
        parse_payload(doc)
    assert err.value.field == "alerts[0].labels.alertname"
    assert "surrogate" in err.value.message
    assert _field_of(_doc(labels={"\udfff": "x"})) == "alerts[0].labels"
    assert _field_of(_doc(annotations={"summary": "a\x00b"})) == "alerts[0].annotations.summary"
    assert _field_of(_doc(generatorURL="http://x/\x00")) == "alerts[0].generatorURL"
    doc = _doc()
    doc["groupKey"] = "\ud83d"
    assert _field_of(doc) == "groupKey"
    doc = _doc()
    doc["commonLabels"] = {"team": "\x00"}
    assert _field_of(doc) == "commonLabels.team"
    # Valid astral-plane text (a surrogate pair in JSON) is fine.
    ok = json.loads('{"a": "\\ud83d\\ude00"}')["a"]
    assert parse_payload(_doc(labels={"alertname": ok})).alerts[0].labels["alertname"] == ok


def test_label_annotation_and_string_sizes_are_capped() -> None:
    half = LABELS_MAX // 2
    assert parse_payload(_doc(labels={"a": "x" * (LABELS_MAX - 2)})).alerts
    assert _field_of(_doc(labels={"a": "x" * half, "b": "y" * half})) == "alerts[0].labels"
    big = "x" * ANNOTATIONS_MAX
    assert _field_of(_doc(annotations={"d": big})) == "alerts[0].annotations"
    doc = _doc()
    doc["commonAnnotations"] = {"d": big}
    assert _field_of(doc) == "commonAnnotations"
    doc = _doc()
    doc["externalURL"] = "h" * (STRING_MAX + 1)
    assert _field_of(doc) == "externalURL"


def test_ends_before_starts_is_normalised_to_starts() -> None:
    p = parse_payload(
        _doc(status="resolved", startsAt="2024-01-01T00:00:10Z", endsAt="2024-01-01T00:00:09Z")
    )
    a = p.alerts[0]
    assert (a.ends_at, a.ends_ts) == (a.starts_at, a.starts_ts)
    later = parse_payload(_doc(status="resolved", endsAt="2024-01-01T00:05:00Z")).alerts[0]
    assert later.ends_at == "2024-01-01T00:05:00Z"
