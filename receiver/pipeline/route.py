"""Stage route: where a new incident goes, by the configured routing tree (`router`)."""

from __future__ import annotations

from receiver.pipeline.context import Context
from receiver.pipeline.work import Webhook
from receiver.store.base import Tx


def route(tx: Tx, ctx: Context, w: Webhook) -> bool:
    """A new incident: its channels, escalation policies and repeat interval."""
    if w.opens:
        p = w.payload
        w.target = ctx.router.route({**p.common_labels, **p.group_labels})
    return True
