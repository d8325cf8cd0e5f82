"""`tocsin-receiver`: subcommands discovered from `receiver.commands`.

A module in `receiver/commands/` that sets `COMMAND = "<name>"` is a subcommand and
provides `add_parser(subparsers) -> ArgumentParser` (adding the parser called `<name>`)
and `run(args) -> int`; no edit here is needed to add one. Modules without `COMMAND`
are helpers shared by the commands, whatever functions they define.
"""

from __future__ import annotations

import argparse
import sys
from types import ModuleType

from receiver import __version__, commands
from servicekit.submodules import import_submodules


def command_modules(package: ModuleType = commands) -> list[ModuleType]:
    """Every subcommand module (one that sets `COMMAND`), in name order."""
    return [
        mod for mod in import_submodules(package) if isinstance(getattr(mod, "COMMAND", None), str)
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tocsin-receiver",
        description="Durable, deduplicating, escalating Alertmanager webhook receiver.",
    )
    parser.add_argument("--version", action="version", version=f"tocsin-receiver {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in command_modules():
        p = mod.add_parser(sub)
        p.set_defaults(run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
