"""`tocsin-receiver serve`: run the receiver."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import signal
import sys
import threading
from functools import partial
from pathlib import Path

import structlog
from aiohttp import web

from receiver.commands import exit_codes
from receiver.commands.config_file import check_or_report
from receiver.config import Config
from receiver.service.app import make_app
from receiver.service.lifecycle import Service
from receiver.service.reload import Reloader
from receiver.store.base import StoreError
from receiver.store.lock import StoreLocked
from receiver.web import flags as web_flags
from servicekit import logs
from servicekit.redaction import add_secrets, secrets_in
from servicekit.runner import make_runner
from servicekit.values import Duration

COMMAND = "serve"

DEFAULT_LISTEN = "127.0.0.1:9878"
DEFAULT_IDLE_TIMEOUT = 15.0


def _duration(text: str) -> float:
    try:
        value = float(Duration.parse(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError("expected a positive duration such as 15s")
    return value


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser("serve", help="run the receiver")
    p.add_argument(
        "--config.file",
        dest="config_file",
        type=Path,
        help="YAML configuration (default: embedded defaults, everything to `log`)",
    )
    p.add_argument(
        "--web.listen-address",
        dest="listen",
        default=DEFAULT_LISTEN,
        help=f"host:port to listen on (default {DEFAULT_LISTEN})",
    )
    p.add_argument(
        "--web.insecure",
        dest="insecure",
        action="store_true",
        help="allow a non-loopback address without API tokens",
    )
    p.add_argument(
        "--storage.path",
        dest="storage",
        type=Path,
        default=Path("tocsin-data"),
        help="directory for the SQLite database (default ./tocsin-data)",
    )
    p.add_argument(
        "--web.idle-timeout",
        dest="idle_timeout",
        type=_duration,
        default=DEFAULT_IDLE_TIMEOUT,
        metavar="DURATION",
        help="close a connection that has not sent a complete request head within this"
        f" long, idle keep-alive included (default {DEFAULT_IDLE_TIMEOUT:g}s)",
    )
    web_flags.add_arguments(p)
    p.add_argument("--log.level", dest="log_level", default="info", choices=logs.LEVELS)
    p.add_argument("--log.format", dest="log_format", default="auto", choices=logs.FORMATS)
    return p


def split_listen(address: str) -> tuple[str, int]:
    """`host:port` (IPv6 in brackets; empty host = all interfaces)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, got {address!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def is_loopback(host: str) -> bool:
    """Whether `host` is `localhost` or a loopback IP address (any other name is not)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    # SIGHUP's default action would end the process; one that arrives before the event
    # loop runs is kept and served as a reload once the service runs.
    early_hup = threading.Event()
    signal.signal(signal.SIGHUP, lambda *_: early_hup.set())
    logs.setup(args.log_level, args.log_format, machine="json")
    log = structlog.get_logger("receiver")
    try:
        host, port = split_listen(args.listen)
    except ValueError as exc:
        print(f"--web.listen-address: {exc}", file=sys.stderr)
        return exit_codes.USAGE
    # Exactly what check-config checks, templates included: a problem found only when
    # the first alert arrives would be found too late.
    config = check_or_report(args.config_file, prefix="config error: ")
    if config is None:
        return exit_codes.CONFIG_PROBLEM
    add_secrets(secrets_in(config))
    config = web_flags.apply(config, args)
    tokens_required = not is_loopback(host) and not args.insecure
    if tokens_required and not config.auth.tokens:
        print(
            f"refusing to listen on {args.listen}: no API tokens are configured (auth.tokens),"
            " so anyone who can reach it could post alerts and ack incidents. Configure"
            " tokens, listen on 127.0.0.1, or pass --web.insecure to accept the risk.",
            file=sys.stderr,
        )
        return exit_codes.REFUSED
    if not config.auth.tokens:
        log.warning("auth_disabled", reason="no auth.tokens configured", listen=args.listen)
    try:
        asyncio.run(_serve(args, config, host, port, tokens_required, early_hup))
    except StoreLocked as exc:
        # Not a listen failure: another receiver (or a restore) has the storage path.
        print(f"cannot serve: {exc}", file=sys.stderr)
        return exit_codes.FAILURE
    except StoreError as exc:
        # The database cannot be opened (PostgreSQL unreachable, a failed migration).
        print(f"cannot serve: {exc}", file=sys.stderr)
        return exit_codes.FAILURE
    except OSError as exc:
        print(f"cannot serve on {args.listen}: {exc.strerror or exc}", file=sys.stderr)
        return exit_codes.FAILURE
    return exit_codes.OK


async def _serve(
    args: argparse.Namespace,
    config: Config,
    host: str,
    port: int,
    tokens_required: bool,
    early_hup: threading.Event,
) -> None:
    log = structlog.get_logger("receiver")
    loop = asyncio.get_running_loop()
    hup = asyncio.Event()
    loop.add_signal_handler(signal.SIGHUP, hup.set)
    if early_hup.is_set():
        hup.set()
    # The store's COMMITs (fsync) and reads run in threads that need the GIL back when
    # they finish; with the default 5 ms switch interval a busy loop delays each by that.
    sys.setswitchinterval(0.0002)
    service = Service(config, args.storage)
    rt = await service.start()
    reloader = Reloader(
        service, args.config_file, tokens_required, adjust=partial(web_flags.apply, args=args)
    )
    runner = make_runner(make_app(rt, reloader), args.idle_timeout)
    await runner.setup()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    reloads = asyncio.create_task(_reload_on_hup(hup, reloader), name="reload-on-sighup")
    try:
        await web.TCPSite(runner, host, port, backlog=1024).start()
        log.info("listening", address=f"{host}:{port}")
        await stop.wait()
        log.info("shutting_down")
    finally:
        reloads.cancel()
        await runner.cleanup()
        await service.stop()


async def _reload_on_hup(hup: asyncio.Event, reloader: Reloader) -> None:
    while True:
        await hup.wait()
        hup.clear()
        await reloader.reload()
