"""The heartbeat timer: a heartbeat whose stored deadline has passed pages, once.

Deadlines live in the `heartbeats` table, so a heartbeat missed while the receiver was
down pages on the first pass after start, and the `missed` state written in the same
transaction as the page's outbox rows keeps a later restart from paging again. Only a
heartbeat that came back (`seen`) and then stopped again pages again.

A heartbeat never seen has its first deadline one interval after the receiver began
watching for it, so a webhook that was never wired up is noticed too.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import structlog

from receiver.config import HeartbeatConfig
from receiver.metrics import HEARTBEAT_LAST_SEEN, HEARTBEAT_MISSED
from receiver.model.snapshot import iso
from receiver.pipeline.context import Context
from receiver.pipeline.heartbeat.alert import missed_payload
from receiver.pipeline.stages import process
from receiver.store.base import Row, Tx

log = structlog.get_logger("receiver.heartbeat")


def _rows(tx: Tx, names: Sequence[str]) -> list[Row]:
    marks = ", ".join("?" * len(names))
    return tx.all(
        "SELECT name, state, since, last_seen_at, due_at FROM heartbeats"  # noqa: S608
        f" WHERE name IN ({marks})",
        tuple(names),
    )


def _deadline(hb: HeartbeatConfig, row: Row) -> float:
    """One interval after the last beat (or after watching began), as configured now."""
    base = row["last_seen_at"] if row["last_seen_at"] is not None else row["since"]
    return float(base) + hb.interval


def anything_due(tx: Tx, ctx: Context, now: float) -> bool:
    """Whether `fire_missed` has work: a heartbeat not yet stored, a stored deadline the
    configured interval no longer gives, or a deadline that has passed. Also refreshes
    the last-seen gauges from the store (a cheap read of a few rows)."""
    beats = {hb.name: hb for hb in ctx.config.heartbeats}
    if not beats:
        return False
    rows = _rows(tx, list(beats))
    for row in rows:
        if row["last_seen_at"] is not None:
            HEARTBEAT_LAST_SEEN.labels(row["name"]).set(row["last_seen_at"])
        HEARTBEAT_MISSED.labels(row["name"])
    if len(rows) < len(beats):
        return True
    return any(
        row["state"] != "missed"
        and (row["due_at"] <= now or row["due_at"] != _deadline(beats[row["name"]], row))
        for row in rows
    )


def fire_missed(tx: Tx, ctx: Context, now: float) -> list[int]:
    """Store heartbeats not stored yet, move deadlines to the configured interval, and
    page for each heartbeat whose deadline has passed; returns notification ids."""
    beats = {hb.name: hb for hb in ctx.config.heartbeats}
    if not beats:
        return []
    tx.executemany(
        "INSERT INTO heartbeats (name, state, since, due_at, missed_count, updated_at)"
        " VALUES (?, 'waiting', ?, ?, 0, ?) ON CONFLICT (name) DO NOTHING",
        [(name, now, now + hb.interval, now) for name, hb in beats.items()],
    )
    ids: list[int] = []
    for row in _rows(tx, list(beats)):
        if row["state"] == "missed":
            continue
        hb = beats[row["name"]]
        due = _deadline(hb, row)
        if due != row["due_at"]:
            tx.execute("UPDATE heartbeats SET due_at = ? WHERE name = ?", (due, hb.name))
        if due <= now:
            ids += _page(tx, ctx, hb, due, row["last_seen_at"], now)
    return ids


def _page(
    tx: Tx, ctx: Context, hb: HeartbeatConfig, due: float, last_seen: float | None, now: float
) -> list[int]:
    """Mark `hb` missed and open its incident through the ordinary stages."""
    tx.execute(
        "UPDATE heartbeats SET state = 'missed', missed_since = ?,"
        " missed_count = missed_count + 1, updated_at = ? WHERE name = ? AND state <> 'missed'",
        (due, now, hb.name),
    )
    if tx.rowcount() == 0:
        return []
    correlation_id = f"heartbeat-{uuid.uuid4().hex}"
    outcome = process(tx, ctx, missed_payload(hb, due, last_seen), correlation_id, now)
    tx.execute(
        "UPDATE heartbeats SET incident_id = ? WHERE name = ?", (outcome.incident_id, hb.name)
    )

    def report() -> None:
        HEARTBEAT_MISSED.labels(hb.name).inc()
        log.warning(
            "heartbeat_missed",
            heartbeat=hb.name,
            due_at=iso(due),
            last_seen_at=iso(last_seen),
            incident_id=outcome.incident_id,
            correlation_id=correlation_id,
        )

    tx.after_commit(report)
    return outcome.notifications
