"""A channel posting through one aiohttp session, opened on first use and closed with it."""

from __future__ import annotations

from typing import Any

import aiohttp

from receiver.channels.base import Channel


class SessionChannel(Channel):
    """Base for channels that talk HTTP with aiohttp; `config` must have a `timeout`.

    Subclasses override `session_options` to add session-wide settings (headers); `start`
    is idempotent, so `send` can call it on every notification.
    """

    def __init__(self, name: str, config: Any, templates: Any) -> None:
        super().__init__(name, config, templates)
        self._session: aiohttp.ClientSession | None = None

    def session_options(self) -> dict[str, Any]:
        """Keyword arguments for `aiohttp.ClientSession`: the config's total timeout."""
        return {"timeout": aiohttp.ClientTimeout(total=float(self.config.timeout))}

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(**self.session_options())

    async def session(self) -> aiohttp.ClientSession:
        """The open session, starting it when `send` comes before `start`."""
        await self.start()
        assert self._session is not None
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
