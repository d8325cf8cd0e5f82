"""Stage escalate, and the escalation policies and repeat intervals it schedules, driven
by stored due times.

Due times live in the `escalations` table and `incidents.repeat_due_at`, so after a
restart each step that came due while we were down fires once (not once per missed
tick), and the repeat of the last step is rescheduled from now rather than caught up.
"""

from __future__ import annotations

from receiver.metrics import ESCALATIONS
from receiver.model.timeline import timeline
from receiver.outbox.create import enqueue, notified_channels
from receiver.pipeline.context import Context
from receiver.pipeline.publish import publish_after_commit
from receiver.pipeline.work import Webhook
from receiver.store.base import Row, Tx

_BATCH = 500


def schedule(tx: Tx, ctx: Context, w: Webhook) -> bool:
    """Stage escalate: a new incident gets its policies' first steps scheduled; the
    outbox stage then queues whatever is already due (`fire_due`)."""
    if w.opens:
        for name in w.target.policies:
            policy = ctx.config.escalation_policies[name]
            tx.execute(
                "INSERT INTO escalations (incident_id, policy, next_step, due_at, active)"
                " VALUES (?, ?, 0, ?, 1) ON CONFLICT DO NOTHING",
                (w.incident_id, name, w.now + policy.steps[0].after),
            )
    return True


def fire_due(tx: Tx, ctx: Context, now: float, incident_id: int | None = None) -> list[int]:
    """Fire every due escalation step (one incident, or all); returns notification ids."""
    sql = "SELECT * FROM escalations WHERE active = 1 AND due_at <= ?"
    params: tuple[float, ...] | tuple[float, int] = (now,)
    if incident_id is not None:
        sql += " AND incident_id = ?"
        params = (now, incident_id)
    ids: list[int] = []
    for row in tx.all(sql + " ORDER BY due_at LIMIT ?", (*params, _BATCH)):
        ids += _fire(tx, ctx, row, now)
    return ids


def _fire(tx: Tx, ctx: Context, row: Row, now: float) -> list[int]:
    incident_id = int(row["incident_id"])
    policy = ctx.config.escalation_policies.get(row["policy"])
    inc = tx.one("SELECT state, created_at FROM incidents WHERE id = ?", (incident_id,))
    if policy is None or inc is None or inc["state"] != "firing":
        tx.execute(
            "UPDATE escalations SET active = 0 WHERE incident_id = ? AND policy = ?",
            (incident_id, row["policy"]),
        )
        return []
    steps = policy.steps
    step = int(row["next_step"])
    ids: list[int] = []
    if step >= len(steps):
        last = len(steps) - 1
        queued = enqueue(tx, ctx, incident_id, steps[last].channels, "escalation", now, last)
        ids += queued
        ESCALATIONS.inc()
        timeline(tx, incident_id, now, "escalation_repeat", policy=policy.name, step=last)
        _publish_step(tx, ctx, incident_id, policy.name, last, steps[last].channels, queued, True)
    while step < len(steps) and inc["created_at"] + steps[step].after <= now:
        kind = "firing" if step == 0 else "escalation"
        queued = enqueue(tx, ctx, incident_id, steps[step].channels, kind, now, step)
        ids += queued
        ESCALATIONS.inc()
        timeline(tx, incident_id, now, "escalation_step", policy=policy.name, step=step)
        _publish_step(tx, ctx, incident_id, policy.name, step, steps[step].channels, queued)
        step += 1
    due: float | None
    if step < len(steps):
        due = inc["created_at"] + steps[step].after
    elif policy.repeat_last_every:
        due = now + policy.repeat_last_every
    else:
        due = None
    tx.execute(
        "UPDATE escalations SET next_step = ?, due_at = ?, active = ?"
        " WHERE incident_id = ? AND policy = ?",
        (step, due, 1 if due is not None else 0, incident_id, row["policy"]),
    )
    return ids


def _publish_step(
    tx: Tx,
    ctx: Context,
    incident_id: int,
    policy: str,
    step: int,
    channels: list[str],
    notification_ids: list[int],
    repeat: bool = False,
) -> None:
    """An `escalation` event for SSE subscribers: which step fired and what it queued."""
    data = {
        "incident_id": incident_id,
        "policy": policy,
        "step": step,
        "repeat": repeat,
        "channels": list(channels),
        "notification_ids": notification_ids,
    }
    publish_after_commit(tx, ctx, "escalation", data)


def fire_repeats(tx: Tx, ctx: Context, now: float) -> list[int]:
    """Re-notify unacknowledged firing incidents whose repeat interval has passed."""
    ids: list[int] = []
    rows = tx.all(
        "SELECT id, repeat_interval FROM incidents WHERE repeat_due_at <= ? AND state = 'firing'"
        " ORDER BY repeat_due_at LIMIT ?",
        (now, _BATCH),
    )
    for r in rows:
        ids += enqueue(tx, ctx, r["id"], notified_channels(tx, r["id"]), "repeat", now)
        tx.execute(
            "UPDATE incidents SET repeat_due_at = ? WHERE id = ?",
            (now + r["repeat_interval"], r["id"]),
        )
    return ids


def anything_due(tx: Tx, now: float) -> bool:
    """Whether an escalation step or a repeat is due, so `tick` has work (a cheap read)."""
    esc = tx.one("SELECT 1 AS x FROM escalations WHERE active = 1 AND due_at <= ? LIMIT 1", (now,))
    rep = tx.one(
        "SELECT 1 AS x FROM incidents WHERE repeat_due_at <= ? AND state = 'firing' LIMIT 1",
        (now,),
    )
    return esc is not None or rep is not None


def tick(tx: Tx, ctx: Context, now: float) -> int:
    """One scheduler pass: due escalation steps and repeats."""
    return len(fire_due(tx, ctx, now)) + len(fire_repeats(tx, ctx, now))


def pause(tx: Tx, incident_id: int) -> None:
    """Acknowledged: stop escalating and repeating."""
    tx.execute("UPDATE escalations SET active = 0 WHERE incident_id = ?", (incident_id,))
    tx.execute("UPDATE incidents SET repeat_due_at = NULL WHERE id = ?", (incident_id,))


def resume(tx: Tx, incident_id: int, now: float) -> None:
    """Unacknowledged: continue with the next step (a step already past fires now)."""
    tx.execute(
        "UPDATE escalations SET active = 1 WHERE incident_id = ? AND due_at IS NOT NULL",
        (incident_id,),
    )
    tx.execute(
        "UPDATE incidents SET repeat_due_at = ? + repeat_interval"
        " WHERE id = ? AND repeat_interval IS NOT NULL",
        (now, incident_id),
    )
