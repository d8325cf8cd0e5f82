"""Property: whatever the webhook decoder accepts, the pipeline processes for good.

A webhook answered 2xx that later fails processing loses its alerts (Alertmanager does
not resend it), so the validation at ingest must refuse everything processing, storage
or a notification's UTF-8 output cannot take. Each example goes through the real
decoder, the real inbox functions and a real SQLite file.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from receiver.commands.config_file import default_config
from receiver.http.errors import JSONHTTPError
from receiver.ingest.inbox import Stored, apply_stored
from receiver.ingest.webhook import decode_body
from receiver.model.snapshot import incident_snapshot_text
from receiver.pipeline.context import Context
from receiver.store.sqlite import SqliteStore

Rig = tuple[asyncio.AbstractEventLoop, SqliteStore, Context]

# Any code point, lone surrogates and NUL included; sometimes a known troublemaker,
# sometimes longer than any cap.
hostile_text = (
    st.text(st.characters(exclude_categories=()), max_size=12)
    | st.sampled_from(["\ud800bad", "\udfff", "a\x00b", "\U0001f600", "", "x"])
    | st.builds(lambda n, c: c * n, st.integers(60_000, 300_000), st.sampled_from(["x", "é"]))
)
hostile_int = st.integers(0, 10) | st.integers(2**62, 2**80) | st.integers()
timestamps = st.sampled_from(
    [
        "2024-05-01T10:00:00Z",
        "2024-05-01T09:00:00.123456789+23:59",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59-23:59",
        "1970-01-01T00:00:00Z",
    ]
)
labels = st.dictionaries(hostile_text, hostile_text, max_size=4)
alerts = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["firing", "resolved"]),
        "labels": labels,
        "annotations": labels,
        "startsAt": timestamps,
        "endsAt": timestamps,
        "generatorURL": hostile_text,
        "fingerprint": hostile_text,
    }
)
payloads = st.fixed_dictionaries(
    {
        "version": st.just("4"),
        "status": st.sampled_from(["firing", "resolved"]),
        "receiver": hostile_text,
        "groupKey": hostile_text,
        "alerts": st.lists(alerts, min_size=1, max_size=3),
        "groupLabels": labels,
        "commonLabels": labels,
        "commonAnnotations": labels,
        "externalURL": hostile_text,
        "truncatedAlerts": hostile_int,
    }
)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    loop = asyncio.new_event_loop()
    store = SqliteStore(Path(tmp_path_factory.mktemp("prop")) / "receiver.db")
    yield loop, store, Context.from_config(default_config())
    loop.run_until_complete(store.close())
    loop.close()


def _utf8(value: Any) -> None:
    """Every string in a decoded snapshot must encode (notifications are UTF-8)."""
    json.dumps(value, ensure_ascii=False).encode("utf-8")


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payloads)
def test_accepted_webhooks_always_process(rig: Rig, doc: dict[str, Any]) -> None:
    loop, store, ctx = rig
    raw = json.dumps(doc).encode()
    try:
        text, payload = decode_body(raw)
    except JSONHTTPError as exc:
        assert exc.status == 400 and json.loads(exc.text or "{}")["field"]
        return

    webhook_id = loop.run_until_complete(store.ingest(text, "cid", 1.0))

    def run(tx: Any) -> tuple[str, str | None, int | None]:
        job = Stored(webhook_id, 1.0, "cid", text, payload, len(raw))
        out = apply_stored(tx, ctx, job, 2.0)
        row = tx.one("SELECT state, error FROM webhooks WHERE id = ?", (webhook_id,))
        assert row is not None
        return row["state"], row["error"], out.incident_id if out else None

    state, error, incident_id = loop.run_until_complete(store.write(run))
    assert (state, error) == ("processed", None)
    if incident_id is not None:
        snapshot, _ = loop.run_until_complete(
            store.read(lambda tx: incident_snapshot_text(tx, incident_id))
        )
        _utf8(json.loads(snapshot))
