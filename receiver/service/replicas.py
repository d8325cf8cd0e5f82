"""Several receivers on one PostgreSQL database: wire LISTEN/NOTIFY (store.pgnotify) to
this receiver's outbox worker, scheduler and SSE hub, so work committed on one replica
wakes the others at once and every replica's SSE clients see every replica's events.

Event ids stay per replica: an event from another replica is published into the local
hub under a local id, so Last-Event-ID resumes only on the replica that gave it out (on
another, the client is sent `reset` with reason `unknown_epoch` and refetches).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from receiver.http.eventhub import EventHub
from receiver.metrics import PG_NOTIFICATIONS, PG_NOTIFICATIONS_DROPPED
from receiver.model.snapshot import iso
from receiver.pipeline.context import Context
from receiver.store.pgnotify import Hooks, PgNotifier


def connect_replicas(
    dsn: str, ctx: Context, hub: EventHub, wake: Callable[[], None], connect_timeout: float
) -> PgNotifier:
    """A notifier (not yet started) whose notifications from the other replicas call
    `wake` (the outbox worker) and feed `hub`; `ctx`'s hooks (set up for this replica
    alone) are wrapped to announce this replica's own commits to the others as well."""

    def woken() -> None:
        PG_NOTIFICATIONS.labels("outbox").inc()
        wake()

    def remote_event(kind: str, data: dict[str, Any]) -> None:
        PG_NOTIFICATIONS.labels("events").inc()
        hub.publish(kind, data)

    hooks = Hooks(woken, remote_event, wake, PG_NOTIFICATIONS_DROPPED.inc)
    notifier = PgNotifier(dsn, hooks, connect_timeout)
    local_wake, local_dispatch = ctx.wake_outbox, ctx.dispatch

    def wake_all() -> None:
        local_wake()
        notifier.outbox_changed()

    def dispatch_all(rows: list[dict[str, Any]]) -> None:
        # This replica sends them at once; the others wake in case it cannot.
        local_dispatch(rows)
        notifier.outbox_changed()

    def publish(kind: str, data: dict[str, Any]) -> None:
        # Stamped here, so every replica shows when it happened, not when it arrived.
        stamped = {"at": iso(time.time()), **data}
        hub.publish(kind, stamped)
        notifier.event(kind, stamped)

    ctx.wake_outbox = wake_all
    ctx.dispatch = dispatch_all
    ctx.publish = publish
    return notifier
