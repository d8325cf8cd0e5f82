"""Everything a request handler needs, stored on the aiohttp app under RUNTIME."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from receiver.api.auth import Authenticator
from receiver.channels.base import Channel
from receiver.config import Config
from receiver.events import EventHub
from receiver.ingest.inbox import Inbox
from receiver.outbox.worker import OutboxWorker
from receiver.pipeline.context import Context
from receiver.store.sqlite import SqliteStore


@dataclass
class Runtime:
    config: Config
    store: SqliteStore
    ctx: Context
    worker: OutboxWorker
    auth: Authenticator
    hub: EventHub
    channels: dict[str, Channel]
    inbox: Inbox


RUNTIME = web.AppKey("runtime", Runtime)
