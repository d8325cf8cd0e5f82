"""MTTA/MTTR through a real receiver: incidents opened by webhook, acknowledged through the
API, resolved by webhook; /metrics holds one observation per first ack and per resolution,
in the right bucket, with bounded labels, and a restart does not observe restored incidents
again."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import aiohttp
import psycopg
import pytest

from tests.integration.receiver_harness import (
    BACKEND,
    ReceiverProcess,
    am_alert,
    am_payload,
    post_webhook,
    wait_for,
)
from tests.metrics import parse_series, value

pytestmark = pytest.mark.integration

TTA = "tocsin_receiver_time_to_acknowledge_seconds"
TTR = "tocsin_receiver_time_to_resolve_seconds"
CONFIG = {
    "channels": [{"name": "pager", "type": "log"}, {"name": "tickets", "type": "log"}],
    "routes": [{"matchers": ['severity="critical"'], "channels": ["pager"]}],
    "default_route": {"channels": ["tickets"]},
}


def payload(group: str, severity: str, status: str = "firing") -> dict[str, object]:
    alert = am_alert(group, status, severity=severity)
    return am_payload(group, [alert], status, common={"group": group, "severity": severity})


async def test_time_to_acknowledge_and_resolve(tmp_path: Path) -> None:
    receiver = await ReceiverProcess(tmp_path, CONFIG).start()

    async def count(name: str, **labels: str) -> float:
        selector = ",".join(f'{k}="{v}"' for k, v in labels.items())
        return await receiver.metric(f"{name}_count{{{selector}}}")

    async def bucket(name: str, le: str, **labels: str) -> float:
        selector = ",".join(f'{k}="{v}"' for k, v in {**labels, "le": le}.items())
        return await receiver.metric(f"{name}_bucket{{{selector}}}")

    async def resolve(s: aiohttp.ClientSession, group: str, severity: str) -> None:
        status, doc = await post_webhook(s, receiver.url, payload(group, severity, "resolved"))
        assert status == 200, doc

    critical = {"severity": "critical", "route": "pager"}
    warning = {"severity": "warning", "route": "tickets"}
    other = {"severity": "other", "route": "tickets"}
    try:
        async with aiohttp.ClientSession() as s:
            # Every configured route's series exist at zero before any incident, so that
            # increase() sees the first observation.
            async with s.get(receiver.url + "/metrics") as r:
                found = parse_series(await r.text())
            for severity in ("critical", "warning", "info", "other"):
                for route in ("pager", "tickets"):
                    labels = {"severity": severity, "route": route}
                    assert value(found, f"{TTA}_count", **labels) == 0, labels
                    assert value(found, f"{TTR}_count", **labels) == 0, labels

            for group, severity in (("a", "critical"), ("b", "warning"), ("c", "sev-x")):
                status, doc = await post_webhook(s, receiver.url, payload(group, severity))
                assert status == 200, doc
            ids = {g: await receiver.incident_id(g) for g in ("a", "b", "c")}

            # A critical incident acknowledged and resolved within seconds: the first bucket.
            status, doc = await receiver.api("POST", f"/api/v1/incidents/{ids['a']}/ack", body={})
            assert status == 200, doc
            assert await count(TTA, **critical) == 1
            assert await bucket(TTA, "30.0", **critical) == 1
            await resolve(s, "a", "critical")

            async def a_resolved() -> bool:
                return await count(TTR, **critical) == 1

            await wait_for(a_resolved, 30, what="time to resolve observed for a")
            assert await bucket(TTR, "30.0", **critical) == 1
            assert await count(TTA, **warning) == 0

            # Restart with incident b made 5,000 s old in the store (as if opened earlier).
            receiver.stop()
            aged = (time.time() - 5000, ids["b"])
            if BACKEND.dsn is not None:
                with psycopg.connect(BACKEND.dsn) as pg:
                    pg.execute("UPDATE incidents SET created_at = %s WHERE id = %s", aged)
            else:
                with sqlite3.connect(receiver.storage / "receiver.db") as db:
                    db.execute("UPDATE incidents SET created_at = ? WHERE id = ?", aged)
                db.close()
            await receiver.start()
            # Nothing is observed again for the incidents the store restored.
            assert await count(TTA) == 0
            assert await count(TTR) == 0

            # b's first ack lands between 3600 and 7200 s; an unack and a second ack do not
            # count again.
            for action in ("ack", "unack", "ack"):
                path = f"/api/v1/incidents/{ids['b']}/{action}"
                status, doc = await receiver.api("POST", path, body={})
                assert status == 200, doc
            assert await count(TTA, **warning) == 1
            assert await bucket(TTA, "3600.0", **warning) == 0
            assert await bucket(TTA, "7200.0", **warning) == 1

            # b and an unknown severity resolve; c was never acknowledged.
            await resolve(s, "b", "warning")
            await resolve(s, "c", "sev-x")

            async def both_resolved() -> bool:
                return await count(TTR) == 2

            await wait_for(both_resolved, 30, what="time to resolve observed for b and c")
            assert await bucket(TTR, "3600.0", **warning) == 0
            assert await bucket(TTR, "7200.0", **warning) == 1
            assert await bucket(TTR, "30.0", **other) == 1
            assert await count(TTA, **other) == 0

            # A repeated resolved webhook for an incident already resolved counts nothing.
            await resolve(s, "b", "warning")
            status, doc = await post_webhook(s, receiver.url, payload("d", "info"))
            assert status == 200, doc
            await receiver.incident_id("d")
            assert await count(TTR) == 2
    finally:
        receiver.stop()
