"""`tocsin-exporter`: node_exporter-style flags, configuration checks and the server."""

from __future__ import annotations

import argparse
import asyncio
import platform
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from exporter import __version__, memory
from exporter.collector import Collector, HostPaths
from exporter.config import ExporterConfig, choose_collectors, load_config
from exporter.discovery import available
from exporter.server import ServerSettings, serve
from exporter.webconfig import load_web_config
from servicekit import logs
from servicekit.problems import ConfigError, Problem
from servicekit.values import Duration

DEFAULT_LISTEN = ":9877"
_ADDRESS_RE = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:\[\]]*)):(?P<port>\d{1,5})$")


def _logging_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--log.level", dest="log_level", choices=logs.LEVELS, default="info")
    parser.add_argument("--log.format", dest="log_format", choices=logs.FORMATS, default="auto")
    return parser


def build_parser(known: Mapping[str, type[Collector]]) -> argparse.ArgumentParser:
    """The full flag set; one --[no-]collector.<name> pair per known collector."""
    parser = argparse.ArgumentParser(
        prog="tocsin-exporter",
        description="Prometheus exporter for host, application and security metrics.",
        parents=[_logging_parser()],
    )
    parser.add_argument("--version", action="version", version=version_text())
    parser.add_argument("--config.file", dest="config_file", metavar="PATH", help="YAML config")
    parser.add_argument(
        "--web.listen-address",
        dest="listen",
        action="append",
        metavar="ADDR",
        help=f"address to listen on, repeatable (default {DEFAULT_LISTEN})",
    )
    parser.add_argument(
        "--web.config.file",
        dest="web_config_file",
        metavar="PATH",
        help="exporter-toolkit web config (TLS, basic auth)",
    )
    parser.add_argument(
        "--web.telemetry-path", dest="telemetry_path", default="/metrics", metavar="PATH"
    )
    parser.add_argument(
        "--web.idle-timeout",
        dest="idle_timeout",
        default="15s",
        metavar="DURATION",
        help="close a connection that has not sent a complete request head within this long,"
        " idle keep-alive included (default 15s)",
    )
    parser.add_argument("--path.procfs", dest="procfs", default="/proc", metavar="PATH")
    parser.add_argument("--path.sysfs", dest="sysfs", default="/sys", metavar="PATH")
    parser.add_argument("--path.rootfs", dest="rootfs", default="/", metavar="PATH")
    parser.add_argument(
        "--check-config",
        action="store_true",
        help="validate the config and web config files, print every problem, and exit",
    )
    parser.add_argument(
        "--collector.disable-defaults",
        dest="disable_defaults",
        action="store_true",
        help="disable every collector not explicitly enabled by flag or config",
    )
    group = parser.add_argument_group("collectors")
    for name in sorted(known):
        cls = known[name]
        state = "enabled" if cls.default_enabled else "disabled"
        group.add_argument(
            f"--collector.{name}",
            dest=f"collector__{name}",
            action=argparse.BooleanOptionalAction,
            default=None,
            help=f"{cls.description or name} (default: {state})",
        )
    return parser


def version_text() -> str:
    """What --version prints."""
    return f"tocsin-exporter {__version__} (python {platform.python_version()})"


def parse_listen(value: str) -> tuple[str | None, int]:
    """`host:port`, `:port` or `[v6]:port` into (host or None for all interfaces, port)."""
    m = _ADDRESS_RE.match(value)
    if not m or not 0 < int(m.group("port")) < 65536:
        raise ValueError(f"expected host:port, :port or [ipv6]:port, got {value!r}")
    host = m.group("v6") or m.group("host") or None
    return host, int(m.group("port"))


def main(argv: list[str] | None = None) -> int:
    """Entry point of `tocsin-exporter`; returns the exit code."""
    args_list = sys.argv[1:] if argv is None else argv
    memory.limit_arenas()
    pre, _ = _logging_parser().parse_known_args(args_list)
    logs.setup(pre.log_level, pre.log_format, machine="logfmt")
    known = available()
    args = build_parser(known).parse_args(args_list)

    problems: list[Problem] = []
    config = ExporterConfig()
    try:
        config = load_config(args.config_file, known)
    except ConfigError as exc:
        problems.extend(exc.problems)
    web_cfg = ssl_ctx = None
    if args.web_config_file:
        try:
            web_cfg, ssl_ctx = load_web_config(args.web_config_file)
        except ConfigError as exc:
            problems.extend(exc.problems)
    listen = []
    for value in args.listen or [DEFAULT_LISTEN]:
        try:
            listen.append(parse_listen(value))
        except ValueError as exc:
            problems.append(Problem("command line", "--web.listen-address", str(exc)))
    idle_timeout = 15.0
    try:
        idle_timeout = Duration.parse(args.idle_timeout)
    except ValueError as exc:
        problems.append(Problem("command line", "--web.idle-timeout", str(exc)))
    if idle_timeout <= 0:
        problems.append(Problem("command line", "--web.idle-timeout", "expected more than 0s"))
    if not args.telemetry_path.startswith("/"):
        problems.append(Problem("command line", "--web.telemetry-path", "expected a path /..."))
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2

    flags = {name: getattr(args, f"collector__{name}") for name in known}
    chosen = choose_collectors(config, known, flags, args.disable_defaults)
    if args.check_config:
        names = ", ".join(c.cls.name for c in chosen) or "none"
        print(f"configuration OK; collectors enabled: {names}")
        return 0

    settings = ServerSettings(
        listen=listen,
        collectors=chosen,
        paths=HostPaths(Path(args.procfs), Path(args.sysfs), Path(args.rootfs)),
        state_dir=config.global_.state_dir,
        min_interval=float(config.global_.min_interval),
        telemetry_path=args.telemetry_path,
        web=web_cfg,
        ssl_context=ssl_ctx,
        idle_timeout=idle_timeout,
    )
    return asyncio.run(serve(settings))
