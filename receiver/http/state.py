"""What request handlers use, stored on the aiohttp app under APP_STATE."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from receiver.config import Config
from receiver.http.auth import Authenticator
from receiver.http.eventhub import EventHub
from receiver.model.actor import Actor
from receiver.pipeline.context import Context
from receiver.store.base import Store


@dataclass
class AppState:
    """The started receiver's parts the request handlers share: its configuration, the
    store, the pipeline context, the authenticator and the event hub for SSE.

    A reload replaces `config` and `auth` in place (the aiohttp app's own state is
    frozen once it serves), so each request sees the configuration current when it
    looks.
    """

    config: Config
    store: Store
    ctx: Context
    auth: Authenticator
    hub: EventHub


APP_STATE = web.AppKey("app_state", AppState)


def app_state(request: web.Request) -> AppState:
    """The AppState of the application handling `request`."""
    return request.app[APP_STATE]


def require(request: web.Request, role: str) -> Actor:
    """Authenticate the caller for `role` (401/403 JSON errors otherwise)."""
    return app_state(request).auth.require(request, role)
