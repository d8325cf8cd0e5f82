"""`tocsin-receiver backup`: a verified online backup of the store, with its SHA-256 file
and, into a directory, retention (`--keep N`).

Exit status: 0 backed up (and pruned); 1 the backup failed, nothing was pruned; 3 the
`--config.file` has problems; 4 refused: the configured backend is PostgreSQL, which is
backed up with its own tools (`pg_dump`/`pg_restore`), as the message says.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

from receiver.commands.config_file import add_backend_config_argument, sqlite_only
from receiver.store.backup import InvalidBackup, backup, backup_into
from receiver.store.checksum import ChecksumError, checksum_path

COMMAND = "backup"


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "backup",
        help="copy the database with SQLite's online backup (safe while running), verified,"
        " with a sha256sum-compatible FILE.sha256 beside it",
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--to", dest="target", type=Path, help="backup file to write")
    where.add_argument(
        "--dir",
        dest="directory",
        type=Path,
        help="directory to write a time-stamped backup (receiver-<UTC time>.db) into",
    )
    p.add_argument(
        "--keep",
        type=_positive,
        metavar="N",
        help="with --dir: after the new backup is verified, remove all but the newest N",
    )
    p.add_argument("--storage.path", dest="storage", type=Path, default=Path("tocsin-data"))
    add_backend_config_argument(p)
    return p


POSTGRES_ADVICE = (
    "backup: storage.backend is postgres; back the database up with PostgreSQL's own tools,"
    " e.g. `pg_dump --format=custom --file=tocsin.dump DBNAME` (consistent while receivers"
    " run) and restore it with `pg_restore --clean --dbname=DBNAME tocsin.dump` with the"
    " receivers stopped (see the README, Storage backends)"
)


def run(args: argparse.Namespace) -> int:
    if (refused := sqlite_only(args.config_file, POSTGRES_ADVICE)) is not None:
        return refused
    if args.keep is not None and args.directory is None:
        print("backup: --keep needs --dir (retention applies to a directory)", file=sys.stderr)
        return 2
    removed: list[Path] = []
    try:
        if args.directory is not None:
            target, removed = backup_into(args.storage, args.directory, args.keep)
        else:
            target = args.target
            backup(args.storage, target)
    except (OSError, sqlite3.Error, InvalidBackup, ChecksumError) as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"backed up {args.storage} to {target} (checksum in {checksum_path(target)})")
    for old in removed:
        print(f"removed old backup {old}")
    return 0
