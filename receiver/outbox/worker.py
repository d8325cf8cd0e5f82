"""The outbox worker: picks due rows, applies rate limits, delivers, records attempts.

Rows over a channel's rate limit are folded (state `folded`), never dropped; when the
channel has room again its folded rows become one digest, which gets the next token
ahead of new messages so a sustained storm cannot starve it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import replace
from functools import partial

import structlog

from receiver.channels.base import Channel
from receiver.config import Config
from receiver.metrics import FOLDED, NOTIFICATION_DURATION, NOTIFICATIONS
from receiver.model.notification import Notification
from receiver.outbox.claim import claim_due, claim_ids, owner_id, release_leases
from receiver.outbox.context import OutboxContext
from receiver.outbox.digest import fold, folded_channels, make_digest
from receiver.outbox.events import publish_outcome
from receiver.outbox.messages import MessageLocks, keep_message_ref, message_ref
from receiver.outbox.record import record_attempt
from receiver.outbox.reply_codes import ref_with_code
from receiver.outbox.send import send, to_notification
from receiver.outbox.throttle import TokenBucket
from receiver.store.base import Row, Store, StoreError, Tx

log = structlog.get_logger("receiver.outbox")
_UNLIMITED = ("digest", "test")
_PICK = 500
_MAX_SLEEP = 1.0


class OutboxWorker:
    """Delivers stored notifications through their channels."""

    def __init__(self, store: Store, ctx: OutboxContext, channels: dict[str, Channel]) -> None:
        self.store = store
        self.ctx = ctx
        self.channels = channels
        cfg = ctx.config
        self.buckets = {
            name: TokenBucket(cc.rate_limit)
            for name, cc in cfg.channels.items()
            if cc.rate_limit is not None
        }
        self.sems = {name: asyncio.Semaphore(cfg.outbox.concurrency) for name in cfg.channels}
        # What `buckets` and `sems` were made for, so a reload keeps them while unchanged.
        self.limits = {name: cc.rate_limit for name, cc in cfg.channels.items()}
        self.concurrency = cfg.outbox.concurrency
        self.inflight: set[int] = set()
        # Finished rows stay in `inflight` until the next pass starts: a pass whose read
        # began before their outcome committed would otherwise see them still pending.
        self.finished: set[int] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.messages = MessageLocks()
        self.last_digest: dict[str, float] = {}
        self.folding: list[tuple[int, str]] = []
        self._fold_task: asyncio.Task[None] | None = None
        self._event = asyncio.Event()
        self._stopping = False
        # Several receivers on one database: rows are claimed (leased) before sending.
        self.owner = owner_id() if store.shared else None
        self._claims: set[asyncio.Task[None]] = set()

    def reconfigure(self, cfg: Config, channels: dict[str, Channel]) -> None:
        """Deliver through `channels` with `cfg`'s rate limits and concurrency from now on.

        A channel keeps its rate-limit bucket (tokens and all) while its limit is the
        same, and its concurrency slots while `outbox.concurrency` is; deliveries in
        flight finish on the channel instance and slot they started with.
        """
        old = self.limits
        self.channels = channels
        self.buckets = {
            name: self.buckets[name]
            if name in self.buckets and old.get(name) == cc.rate_limit
            else TokenBucket(cc.rate_limit)
            for name, cc in cfg.channels.items()
            if cc.rate_limit is not None
        }
        self.limits = {name: cc.rate_limit for name, cc in cfg.channels.items()}
        if cfg.outbox.concurrency != self.concurrency:
            self.sems = {}
            self.concurrency = cfg.outbox.concurrency
        for name in cfg.channels:
            self.sems.setdefault(name, asyncio.Semaphore(self.concurrency))
        self.wake()

    def wake(self) -> None:
        """Called after a commit that queued notifications."""
        self._event.set()

    async def run(self) -> None:
        """Loop until `stop`: a pass whenever woken, at least every second."""
        sleep = 0.0
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), timeout=sleep)
            self._event.clear()
            if self._stopping:
                break
            try:
                sleep = await self.pass_once()
            except StoreError as exc:
                log.error("outbox_pass_failed", error=str(exc))
                sleep = _MAX_SLEEP

    async def stop(self) -> None:
        """Stop picking rows and let in-flight deliveries and folds finish recording."""
        self._stopping = True
        self._event.set()
        pending = set(self.tasks) | self._claims
        if self._fold_task is not None:
            pending.add(self._fold_task)
        if pending:
            await asyncio.wait(pending, timeout=10)
        if self.owner is not None:
            # Rows leased to this worker and not sent (created during shutdown) are
            # released, so another receiver, or this one restarted under a new name,
            # sends them at once instead of after the lease.
            try:
                await self.store.write(partial(release_leases, owner=self.owner), durable=False)
            except StoreError as exc:
                log.warning("outbox_release_failed", error=str(exc))

    async def pass_once(self) -> float:
        """Digest folded rows, dispatch due rows; returns seconds until the next pass."""
        now = time.time()
        sleep = _MAX_SLEEP
        self.inflight -= self.finished
        self.finished = set()
        folded = await self.store.read(folded_channels)
        for channel in folded:
            sleep = min(sleep, await self._maybe_digest(channel, now))
        rows, next_due = await self.store.read(
            lambda tx: _due_rows(tx, now, len(self.inflight) + _PICK)
        )
        if self.owner is not None and rows:
            rows = await self.store.write(
                partial(claim_due, owner=self.owner, now=now, lease=self._lease(), limit=_PICK),
                durable=False,
            )
        if self._start(rows):
            sleep = 0.0
        if next_due is not None:
            sleep = min(sleep, max(0.0, next_due - time.time()))
        return max(sleep, 0.005)

    def submit(self, rows: list[Row]) -> None:
        """Rows just committed by a write job: start them without re-reading the table."""
        if self._stopping:
            return
        if self.owner is not None:
            # Rows created under this worker's lease (`enqueue`) are claimed already.
            mine = [r for r in rows if r.get("lease_owner") == self.owner]
            others = [int(r["id"]) for r in rows if r.get("lease_owner") != self.owner]
            if others:
                task = asyncio.create_task(self._claim_and_start(others))
                self._claims.add(task)
                task.add_done_callback(self._claims.discard)
            rows = mine
        if self._start(rows):
            self.wake()

    def _lease(self) -> float:
        return float(self.ctx.config.outbox.lease)

    async def _claim_and_start(self, ids: list[int]) -> None:
        """Claim rows this receiver just created, then start them (several receivers)."""
        assert self.owner is not None
        job = partial(claim_ids, ids=ids, owner=self.owner, now=time.time(), lease=self._lease())
        try:
            rows = await self.store.write(job, durable=False)
        except StoreError as exc:
            # They stay pending and unleased: the next pass (here or elsewhere) claims them.
            log.warning("outbox_claim_failed", error=str(exc))
            self.wake()
            return
        if self._start(rows):
            self.wake()

    def _start(self, rows: list[Row]) -> bool:
        """Deliver each row or, over its channel's rate limit, fold it; True if any folded."""
        to_fold: list[tuple[int, str]] = []
        for row in rows:
            if row["id"] in self.inflight:
                continue
            bucket = self.buckets.get(row["channel"])
            if bucket is not None and row["kind"] not in _UNLIMITED and not bucket.take():
                to_fold.append((row["id"], row["channel"]))
                continue
            self.inflight.add(row["id"])
            task = asyncio.create_task(self._deliver(row))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        if not to_fold:
            return False
        # Held in `inflight` until the fold commits, so no pass can also send them.
        self.inflight.update(i for i, _ in to_fold)
        self.folding.extend(to_fold)
        if self._fold_task is None or self._fold_task.done():
            self._fold_task = asyncio.create_task(self._flush_folds())
        return True

    async def _flush_folds(self) -> None:
        while self.folding:
            batch, self.folding = self.folding, []
            now = time.time()
            try:
                await self.store.write(partial(fold, rows=batch, now=now), durable=False)
            except StoreError as exc:
                log.error("fold_failed", error=str(exc))
            else:
                for _, channel in batch:
                    FOLDED.labels(channel, "rate_limit").inc()
            finally:
                self.finished.update(i for i, _ in batch)
        self.wake()

    async def _maybe_digest(self, channel: str, now: float) -> float:
        wait = self.ctx.config.storm.digest_interval - (now - self.last_digest.get(channel, 0.0))
        if wait > 0:
            return wait
        bucket = self.buckets.get(channel)
        if bucket is not None and not bucket.take():
            return bucket.wait_time()
        digest_id = await self.store.write(
            lambda tx: make_digest(tx, channel, now, self.store.shared)
        )
        if digest_id is not None:
            self.last_digest[channel] = now
            log.info("digest_created", channel=channel, notification_id=digest_id)
        return 0.0

    async def _deliver(self, row: Row) -> None:
        try:
            notification = to_notification(row)
            with structlog.contextvars.bound_contextvars(
                correlation_id=notification.correlation_id,
                notification_id=notification.id,
                channel=notification.channel,
            ):
                await self._send_and_record(notification, row["incident_id"])
        finally:
            self.finished.add(row["id"])

    async def _send_and_record(self, n: Notification, incident_id: int | None) -> None:
        channel = self.channels.get(n.channel)
        if channel is None or incident_id is None or not channel.keeps_message:
            await self._attempt(channel, n, incident_id, keep=False)
            return
        async with self.messages.hold(incident_id, n.channel):
            if channel.wants_reply_code:
                ref: str | None = await self.store.write(
                    lambda tx: ref_with_code(tx, incident_id, n.channel, time.time())
                )
            else:
                ref = await self.store.read(lambda tx: message_ref(tx, incident_id, n.channel))
            await self._attempt(channel, replace(n, message_ref=ref), incident_id, keep=True)

    async def _attempt(
        self, channel: Channel | None, n: Notification, incident_id: int | None, keep: bool
    ) -> None:
        """Send, then record the attempt (and, with `keep`, the message reference the
        channel returned for the incident) in one transaction."""
        async with self.sems.setdefault(n.channel, asyncio.Semaphore(1)):
            started = time.time()
            t0 = time.perf_counter()
            result = await send(channel, n)
            duration = time.perf_counter() - t0
        NOTIFICATION_DURATION.labels(n.channel).observe(duration)
        cfg = self.ctx.config.outbox

        def record(tx: Tx) -> str:
            now = time.time()
            outcome = record_attempt(tx, n.id, started, duration, result, cfg, now, self.owner)
            # A failed attempt may still have reached someone (an SMS to some of its numbers).
            if outcome != "stale" and keep and incident_id is not None and result.message_ref:
                keep_message_ref(tx, incident_id, n.channel, result.message_ref, now)
            return outcome

        try:
            outcome = await self.store.write(record, durable=False)
        except StoreError as exc:
            log.error("attempt_not_recorded", error=str(exc))
            return
        if outcome == "stale":
            return
        NOTIFICATIONS.labels(n.channel, outcome).inc()
        publish_outcome(self.ctx.publish, n, incident_id, result, outcome)
        # Deliveries are counted and stored with their attempts; a line for each one at
        # info would cost more than the rest of the notification's bookkeeping.
        level = log.debug if result.ok else log.warning
        level(
            "notification_" + outcome,
            kind=n.kind,
            attempt=n.attempt,
            status=result.status,
            error=result.error,
            retry_after=result.retry_after,
        )
        if outcome == "retry":
            self.wake()


def _due_rows(tx: Tx, now: float, limit: int) -> tuple[list[Row], float | None]:
    rows = tx.all(
        "SELECT * FROM notifications WHERE state = 'pending' AND next_attempt_at <= ?"
        " ORDER BY id LIMIT ?",
        (now, limit),
    )
    nxt = tx.one(
        "SELECT MIN(next_attempt_at) AS t FROM notifications"
        " WHERE state = 'pending' AND next_attempt_at > ?",
        (now,),
    )
    return rows, (nxt["t"] if nxt else None)
