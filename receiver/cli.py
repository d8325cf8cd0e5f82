"""`tocsin-receiver`: subcommands discovered from `receiver.commands`.

Each module in `receiver/commands/` exposing `add_parser(subparsers) -> ArgumentParser`
and `run(args) -> int` becomes a subcommand; no edit here is needed to add one.
"""

from __future__ import annotations

import argparse
import sys
from types import ModuleType

from receiver import __version__, commands
from servicekit.submodules import import_submodules


def command_modules() -> list[ModuleType]:
    """Every subcommand module, in name order."""
    return [
        mod
        for mod in import_submodules(commands)
        if callable(getattr(mod, "add_parser", None)) and callable(getattr(mod, "run", None))
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
