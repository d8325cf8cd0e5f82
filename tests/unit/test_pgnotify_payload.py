"""An SSE event always fits in one PostgreSQL NOTIFY payload (under 8000 bytes)."""

from __future__ import annotations

import json

from receiver.store.pgnotify import MAX_PAYLOAD, encode_event


def test_a_small_event_goes_whole() -> None:
    data = {"change": "acknowledged", "id": 7, "at": "2026-01-01T00:00:00Z"}
    assert json.loads(encode_event("o1", "incident", data)) == {
        "o": "o1",
        "k": "incident",
        "d": data,
    }


def test_a_long_error_is_cut_and_marked() -> None:
    data = {"notification_id": 3, "error": "x" * 20_000, "status": 500}
    doc = json.loads(encode_event("o1", "delivery", data))
    assert len(encode_event("o1", "delivery", data).encode()) < MAX_PAYLOAD
    assert doc["d"]["truncated"] is True
    assert doc["d"]["notification_id"] == 3 and doc["d"]["status"] == 500
    assert doc["d"]["error"].startswith("x" * 100)


def test_an_event_of_many_long_fields_keeps_its_ids() -> None:
    data: dict[str, object] = {f"f{i}": "é" * 600 for i in range(40)}
    data.update(incident_id=9, error=None, channel="h")
    text = encode_event("o1", "incident", data)
    assert len(text.encode()) < MAX_PAYLOAD
    assert json.loads(text)["d"] == {
        "incident_id": 9,
        "error": None,
        "channel": "h",
        "truncated": True,
    }
