"""Start and stop the receiver: store, channels, outbox worker, scheduler, retention."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import structlog

from receiver.actionlinks.from_config import link_signer, reply_channels
from receiver.channels.base import Channel, channel_types
from receiver.config import Config
from receiver.http.auth import Authenticator
from receiver.http.eventhub import EventHub
from receiver.http.state import AppState
from receiver.ingest.inbox import Inbox
from receiver.metrics import REGISTRY
from receiver.outbox.worker import OutboxWorker
from receiver.pipeline import timers, timing
from receiver.pipeline.context import Context
from receiver.pipeline.router import Router
from receiver.service.replicas import connect_replicas
from receiver.service.storage import open_store, postgres_dsn
from receiver.store.base import Store, StoreError
from receiver.store.metrics import StoreCollector
from receiver.store.pgnotify import PgNotifier
from receiver.store.retention import prune_singleton
from receiver.templates import TemplateRenderer

log = structlog.get_logger("receiver.service")
TICK = 0.2
RETENTION_EVERY = 600.0
RETIRE_WAIT = 300.0
# Several receivers on one database: how often each looks for webhooks another receiver
# answered and then died before processing, and how old such a webhook must be.
ADOPT_EVERY = 5.0
ADOPT_AGE = 10.0


@dataclass
class Runtime:
    """The started receiver's parts."""

    config: Config
    store: Store
    ctx: Context
    worker: OutboxWorker
    auth: Authenticator
    hub: EventHub
    channels: dict[str, Channel]
    inbox: Inbox
    state: AppState = field(init=False)

    def __post_init__(self) -> None:
        self.state = AppState(self.config, self.store, self.ctx, self.auth, self.hub)

    def app_state(self) -> AppState:
        """What the request handlers use (one object, updated in place on reload)."""
        return self.state


class Service:
    """The running receiver (without the HTTP server)."""

    def __init__(self, config: Config, storage: Path) -> None:
        self.config = config
        self.storage = storage
        self.runtime: Runtime | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._collector: StoreCollector | None = None
        # Old channels closing once the deliveries started before a reload finish.
        self._retiring: set[asyncio.Task[None]] = set()
        self._notifier: PgNotifier | None = None

    async def start(self) -> Runtime:
        """Open the store, start the channels, replay webhooks left unprocessed, register
        the store's metrics, then run the outbox worker, scheduler and retention tasks."""
        cfg = self.config
        store = await open_store(cfg.storage, self.storage)
        hub = EventHub()
        ctx = Context.from_config(cfg)
        timing.prepare(ctx.router)
        ctx.publish = hub.publish
        channels = await start_channels(cfg)
        worker = OutboxWorker(store, ctx, channels)
        ctx.wake_outbox = worker.wake
        ctx.dispatch = worker.submit
        ctx.lease_owner = worker.owner
        if dsn := postgres_dsn(cfg.storage):
            timeout = float(cfg.storage.connect_timeout)
            self._notifier = connect_replicas(dsn, ctx, hub, worker.wake, timeout)
            self._notifier.start()
        inbox = Inbox(store, ctx)
        rt = Runtime(cfg, store, ctx, worker, Authenticator(cfg.auth.tokens), hub, channels, inbox)
        self.runtime = rt
        redone = await inbox.replay()
        if redone:
            log.warning("webhooks_replayed", count=redone)
        self._collector = StoreCollector(store)
        REGISTRY.register(self._collector)
        self._tasks = [
            asyncio.create_task(worker.run(), name="outbox"),
            asyncio.create_task(self._scheduler(rt), name="scheduler"),
            asyncio.create_task(self._retention(rt), name="retention"),
        ]
        if store.shared:
            self._tasks.append(asyncio.create_task(self._adopt(rt), name="adopt-webhooks"))
        log.info(
            "receiver_started",
            storage=str(self.storage),
            channels=sorted(channels),
            config=cfg.source,
        )
        return rt

    async def stop(self) -> None:
        """Drain the inbox, stop the outbox worker and the tasks, close the channels and
        then the store; nothing happens when not started."""
        rt = self.runtime
        if rt is None:
            return
        await rt.inbox.drain()
        await rt.worker.stop()
        if self._notifier is not None:
            await self._notifier.stop()
            self._notifier = None
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        if self._collector is not None:
            REGISTRY.unregister(self._collector)
            self._collector = None
        if self._retiring:
            await asyncio.wait(self._retiring)
        for ch in rt.channels.values():
            await ch.close()
        await rt.store.close()
        self.runtime = None

    async def reconfigure(self, cfg: Config) -> None:
        """Run on `cfg` from now on, without a restart (a reload; `cfg` is fully checked).

        New channels are started first: if one cannot start, nothing has changed. The
        pipeline context is swapped by a job of the store's writer, so it falls between
        two processing jobs and never inside one (large ones run on a thread). Until that
        job has run, rows queued under either configuration are dispatched, so the
        worker holds the old channels and the new ones meanwhile. Queued webhooks and
        outbox rows stay where they are and go on under `cfg`: escalations follow the new
        policy from their next step, rows of a channel still configured go through its
        new instance, and the old channels are closed once the deliveries that may use
        them have finished.
        """
        rt = self.runtime
        if rt is None:
            raise RuntimeError("the service is not started")
        auth = Authenticator(cfg.auth.tokens)
        router = Router.from_config(cfg)
        timing.prepare(router)
        channels = await start_channels(cfg)
        ctx, old = rt.ctx, rt.channels
        rt.worker.reconfigure(cfg, {**old, **channels})

        def swap(_: object) -> None:
            ctx.config, ctx.router = cfg, router

        try:
            await rt.store.write(swap, durable=False)
        except StoreError:
            # A failing store may not have reached the job; swapping twice is harmless.
            swap(None)
        rt.worker.reconfigure(cfg, channels)
        rt.channels, rt.config, rt.auth = channels, cfg, auth
        rt.state.config, rt.state.auth = cfg, auth
        self.config = cfg
        in_flight = set(rt.worker.tasks)
        task = asyncio.create_task(_retire(old, in_flight), name="retire-channels")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _scheduler(self, rt: Runtime) -> None:
        while True:
            now = time.time()
            try:
                if await rt.store.read(partial(timers.anything_due, ctx=rt.ctx, now=now)):
                    fired = await rt.store.write(
                        partial(timers.tick, ctx=rt.ctx, now=now, shared=rt.store.shared)
                    )
                    if fired:
                        log.info("scheduled_notifications", count=fired)
                        continue
            except StoreError as exc:
                log.error("scheduler_failed", error=str(exc))
            await asyncio.sleep(TICK)

    async def _adopt(self, rt: Runtime) -> None:
        while True:
            await asyncio.sleep(ADOPT_EVERY)
            try:
                if adopted := await rt.inbox.adopt(time.time() - ADOPT_AGE):
                    log.info("webhooks_adopted", count=adopted)
            except StoreError as exc:
                log.error("adopt_failed", error=str(exc))

    async def _retention(self, rt: Runtime) -> None:
        while True:
            cutoff = time.time() - rt.config.retention
            job = partial(prune_singleton, older_than=cutoff, shared=rt.store.shared)
            try:
                while pruned := await rt.store.write(job):
                    log.info(
                        "retention_pruned", incidents=pruned.incidents, webhooks=pruned.webhooks
                    )
            except StoreError as exc:
                log.error("retention_failed", error=str(exc))
            await asyncio.sleep(RETENTION_EVERY)


async def start_channels(cfg: Config) -> dict[str, Channel]:
    """An instance of every configured channel, started, with the config's templates;
    if one fails to start, those already started are closed and the error propagates."""
    templates = TemplateRenderer(
        cfg.templates_dir, link_signer(cfg), reply_channels(cfg), grafana_url=cfg.grafana_url
    )
    types = channel_types()
    channels: dict[str, Channel] = {}
    try:
        for name, cc in cfg.channels.items():
            channel = types[cc.type](name, cc.options, templates)
            channels[name] = channel
            await channel.start()
    except BaseException:
        for channel in channels.values():
            with contextlib.suppress(Exception):
                await channel.close()
        raise
    return channels


async def _retire(channels: dict[str, Channel], deliveries: set[asyncio.Task[None]]) -> None:
    # Deliveries carry their own timeouts; RETIRE_WAIT bounds a channel that ignores its own.
    if deliveries:
        await asyncio.wait(deliveries, timeout=RETIRE_WAIT)
    for channel in channels.values():
        try:
            await channel.close()
        except Exception as exc:
            log.warning("channel_close_failed", channel=channel.name, error=str(exc))
