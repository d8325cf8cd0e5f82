"""Reloading the configuration while serving (SIGHUP, `POST /-/reload`), as Alertmanager
does: the new file is checked in full by `check_config`; if anything is wrong the
running configuration stays, every problem is logged and the reload metrics say so.

What a reload cannot change: the listen address and the storage path are flags, read
once; the `storage` section (`synchronous`, `path`) is fixed for the open database. A
file that changes `storage` is applied otherwise, keeps the running `storage` and
says which keys need a restart.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from aiohttp import web
from prometheus_client import Gauge

from receiver.config import Config
from receiver.http.state import require
from receiver.metrics import REGISTRY
from receiver.service.config_check import check_config
from receiver.service.lifecycle import Service
from servicekit.problems import ConfigError, Problem
from servicekit.redaction import add_secrets, redact_text, secrets_in

log = structlog.get_logger("receiver.reload")

LAST_RELOAD_OK = Gauge(
    "tocsin_receiver_config_last_reload_successful",
    "Whether the last configuration load (at start or reload) succeeded (1) or not (0).",
    registry=REGISTRY,
)
LAST_RELOAD_TIME = Gauge(
    "tocsin_receiver_config_last_reload_success_timestamp_seconds",
    "When the configuration was last loaded successfully (Unix time).",
    registry=REGISTRY,
)

# Sections a running receiver keeps until restarted, by their config key.
FIXED_SECTIONS = ("storage",)


@dataclass
class ReloadResult:
    """What a reload did: `problems` (nothing applied) or the keys that need a restart."""

    problems: list[str] = field(default_factory=list)
    restart_required: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the new configuration is now running."""
        return not self.problems


class Reloader:
    """Re-reads `path` into `service`, one reload at a time.

    `tokens_required` is the listen policy `serve` enforced at start: on a non-loopback
    address without --web.insecure, a configuration without auth tokens is refused.
    """

    def __init__(
        self,
        service: Service,
        path: Path | None,
        tokens_required: bool,
        adjust: Callable[[Config], Config] | None = None,
    ) -> None:
        self.service = service
        self.path = path
        self.tokens_required = tokens_required
        # The command line's overrides (`--web.external-url`, ...), put over every
        # reloaded file as they were over the first.
        self.adjust = adjust
        self._lock = asyncio.Lock()
        LAST_RELOAD_OK.set(1)
        LAST_RELOAD_TIME.set(time.time())

    async def reload(self) -> ReloadResult:
        """Check and apply the configuration file; the old one stays on any problem."""
        async with self._lock:
            try:
                result = await self._reload()
            except Exception as exc:
                # Whatever went wrong, the old config runs on and the next SIGHUP is heard.
                log.exception("config_reload_crashed")
                result = ReloadResult(problems=[redact_text(f"{type(exc).__name__}: {exc}")])
        if result.ok:
            LAST_RELOAD_OK.set(1)
            LAST_RELOAD_TIME.set(time.time())
            log.info(
                "config_reloaded",
                config=self.service.config.source,
                restart_required=result.restart_required,
            )
        else:
            LAST_RELOAD_OK.set(0)
            for problem in result.problems:
                log.error("config_reload_problem", problem=problem)
            log.error(
                "config_reload_failed",
                config=str(self.path) if self.path else "<embedded defaults>",
                problems=len(result.problems),
                kept=self.service.config.source,
            )
        return result

    async def _reload(self) -> ReloadResult:
        try:
            # Reading files and compiling every template would stall the event loop.
            cfg = await asyncio.to_thread(check_config, self.path)
        except ConfigError as exc:
            return ReloadResult(problems=[redact_text(str(p)) for p in exc.problems])
        if self.adjust is not None:
            cfg = self.adjust(cfg)
        if self.tokens_required and not cfg.auth.tokens:
            problem = Problem(
                cfg.source,
                "auth.tokens",
                "required: the receiver listens on a non-loopback address (restart with"
                " --web.insecure to run without tokens)",
            )
            return ReloadResult(problems=[str(problem)])
        running = self.service.config
        fixed = [key for key in FIXED_SECTIONS if getattr(cfg, key) != getattr(running, key)]
        if fixed:
            cfg = dataclasses.replace(cfg, **{key: getattr(running, key) for key in fixed})
        if cfg.web.route_prefix != running.web.route_prefix:
            # The page's routes are registered once, under the prefix they started with.
            web_kept = dataclasses.replace(cfg.web, route_prefix=running.web.route_prefix)
            cfg = dataclasses.replace(cfg, web=web_kept)
            fixed.append("web.route_prefix")
        if fixed:
            log.warning("config_reload_restart_required", keys=fixed, kept="running values")
        # Registered before the switch, so no line naming a new secret goes out unredacted.
        add_secrets(secrets_in(cfg))
        try:
            await self.service.reconfigure(cfg)
        except Exception as exc:
            # A channel that cannot start (a bad CA file, say): nothing was switched yet.
            failed = f"{cfg.source}: could not apply: {type(exc).__name__}: {exc}"
            return ReloadResult(problems=[redact_text(failed)])
        return ReloadResult(restart_required=fixed)


RELOADER = web.AppKey("reloader", Reloader)


async def reload_endpoint(request: web.Request) -> web.Response:
    """`POST /-/reload` (admin role when tokens are configured): 200 with the keys that
    need a restart, or 500 with every problem while the old configuration stays."""
    require(request, "admin")
    result = await request.app[RELOADER].reload()
    if not result.ok:
        # The JSON error shape (`error`, `status`, `field`) with every problem added.
        doc = {
            "error": f"configuration not reloaded ({len(result.problems)} problem(s));"
            " the running configuration stays",
            "status": 500,
            "field": "config",
            "problems": result.problems,
        }
        return web.json_response(doc, status=500)
    return web.json_response({"status": "success", "restart_required": result.restart_required})
