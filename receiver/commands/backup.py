"""`tocsin-receiver backup --to FILE`: online backup of the store."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from receiver.store.backup import backup

COMMAND = "backup"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "backup", help="copy the database with SQLite's online backup (safe while running)"
    )
    p.add_argument("--to", dest="target", type=Path, required=True, help="backup file to write")
    p.add_argument("--storage.path", dest="storage", type=Path, default=Path("tocsin-data"))
    return p


def run(args: argparse.Namespace) -> int:
    try:
        backup(args.storage, args.target)
    except (OSError, FileNotFoundError) as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # sqlite3.Error and friends: report, never a traceback
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"backed up {args.storage} to {args.target}")
    return 0
