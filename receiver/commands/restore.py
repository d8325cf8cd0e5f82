"""`tocsin-receiver restore --from FILE`: install a backup (receiver stopped)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from receiver.store.backup import restore

COMMAND = "restore"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "restore", help="install a backup file as the database (stop the receiver first)"
    )
    p.add_argument("--from", dest="source", type=Path, required=True)
    p.add_argument("--storage.path", dest="storage", type=Path, default=Path("tocsin-data"))
    p.add_argument("--force", action="store_true", help="replace an existing database")
    return p


def run(args: argparse.Namespace) -> int:
    try:
        target = restore(args.source, args.storage, args.force)
    except (OSError, ValueError) as exc:
        print(f"restore failed: {exc}", file=sys.stderr)
        return 1
    print(f"restored {args.source} to {target}")
    return 0
