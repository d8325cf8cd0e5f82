"""`tocsin-receiver migrate`: apply the schema versions the configured database still
needs (what `serve` does on start, under the same lock); `--check` only lists them.

Exit status: 0 nothing pending (or all applied); 1 versions are pending (`--check`) or
the database could not be read or migrated; 3 the configuration has problems.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from receiver.commands import exit_codes
from receiver.commands.config_file import load_or_report
from receiver.service.storage import apply_migrations, pending_migrations
from receiver.store.base import StoreError

COMMAND = "migrate"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "migrate",
        help="apply pending schema migrations to the configured database (--check: list them)",
    )
    p.add_argument("--config.file", dest="config_file", type=Path, default=None)
    p.add_argument("--storage.path", dest="storage", type=Path, default=Path("tocsin-data"))
    p.add_argument(
        "--check",
        action="store_true",
        help="print the pending versions and exit 1 if there are any; change nothing",
    )
    return p


def run(args: argparse.Namespace) -> int:
    cfg = load_or_report(args.config_file)
    if cfg is None:
        return exit_codes.CONFIG_PROBLEM
    backend = cfg.storage.backend
    try:
        if args.check:
            versions = pending_migrations(cfg.storage, args.storage)
        else:
            versions = apply_migrations(cfg.storage, args.storage)
    except StoreError as exc:
        print(f"migrate: {exc}", file=sys.stderr)
        return exit_codes.FAILURE
    listed = ", ".join(str(v) for v in versions)
    if args.check:
        if not versions:
            print(f"{backend}: schema up to date, no migration pending")
            return exit_codes.OK
        print(f"{backend}: pending migrations: {listed}")
        return exit_codes.FAILURE
    print(f"{backend}: applied migrations: {listed}" if versions else f"{backend}: up to date")
    return exit_codes.OK
