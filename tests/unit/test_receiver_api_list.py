"""The incidents list reads on past its first batch of rows, with and without matchers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from receiver.api.incidents import list_incidents
from receiver.commands.config_file import default_config
from receiver.matchers import parse_matcher
from receiver.model.payload import parse_payload
from receiver.pipeline.context import Context
from receiver.pipeline.stages import process
from receiver.store.base import Tx
from receiver.store.sqlite import SqliteStore
from tests.integration.receiver_harness import am_alert, am_payload

GROUPS = 620  # more than one batch of 500


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(tmp_path / "receiver.db")
    ctx = Context.from_config(default_config())

    def seed(tx: Tx) -> None:
        for n in range(GROUPS):
            payload = parse_payload(am_payload(f"g{n}", [am_alert(f"a{n}")]))
            process(tx, ctx, payload, "cid", time.time())

    await s.write(seed)
    yield s
    await s.close()


async def test_a_limit_past_one_batch_is_filled_without_matchers(store: SqliteStore) -> None:
    docs = await store.read(lambda tx: list_incidents(tx, [], [], [], 1000))
    assert len(docs) == GROUPS
    assert [d["id"] for d in docs] == sorted((d["id"] for d in docs), reverse=True)
    docs = await store.read(lambda tx: list_incidents(tx, ["firing"], [], [], 510))
    assert len(docs) == 510


async def test_matchers_read_on_until_the_limit(store: SqliteStore) -> None:
    every_tenth = parse_matcher('group=~"g[0-9]*0"')
    docs = await store.read(lambda tx: list_incidents(tx, [], [], [every_tenth], 1000))
    assert len(docs) == GROUPS // 10
