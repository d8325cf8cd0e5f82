"""`tocsin-receiver restore --from FILE`: install a verified backup (receiver stopped).

Exit status: 0 restored; 1 failed otherwise (a database exists without --force, I/O);
3 refused because a receiver (or another restore) holds the database, --force or not,
or the `--config.file` has problems; 4 refused because the backup failed verification
(its FILE.sha256 is missing or does not match, or it is not an intact receiver
database), or because the configured backend is PostgreSQL, which is restored with
`pg_restore` (the message says how). Nothing is changed unless 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from receiver.commands.config_file import add_backend_config_argument, sqlite_only
from receiver.store.backup import InvalidBackup
from receiver.store.checksum import ChecksumError, MissingChecksum
from receiver.store.lock import StoreLocked
from receiver.store.restore import restore

COMMAND = "restore"
EXIT_LOCKED = 3
EXIT_UNVERIFIED = 4
POSTGRES_ADVICE = (
    "restore: storage.backend is postgres; restore the database with PostgreSQL's own"
    " tools, e.g. `pg_restore --clean --dbname=DBNAME tocsin.dump` with every receiver"
    " stopped, from a `pg_dump --format=custom` dump (see the README, Storage backends)"
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "restore", help="install a backup file as the database (stop the receiver first)"
    )
    p.add_argument("--from", dest="source", type=Path, required=True)
    p.add_argument("--storage.path", dest="storage", type=Path, default=Path("tocsin-data"))
    p.add_argument(
        "--force",
        action="store_true",
        help="replace an existing database (never one a running receiver holds)",
    )
    p.add_argument(
        "--no-checksum",
        dest="checksum",
        action="store_false",
        help="restore a backup that has no FILE.sha256 (SQLite's integrity check still runs)",
    )
    add_backend_config_argument(p)
    return p


def run(args: argparse.Namespace) -> int:
    if (refused := sqlite_only(args.config_file, POSTGRES_ADVICE)) is not None:
        return refused
    try:
        target = restore(args.source, args.storage, args.force, args.checksum)
    except StoreLocked as exc:
        print(
            f"restore refused: {exc}. Stop the receiver first; --force does not override"
            " this, since a running receiver would keep using the replaced file.",
            file=sys.stderr,
        )
        return EXIT_LOCKED
    except MissingChecksum as exc:
        print(
            f"restore refused: {exc}; nothing was changed. A backup made before backups had"
            " checksums: check it yourself, then pass --no-checksum",
            file=sys.stderr,
        )
        return EXIT_UNVERIFIED
    except ChecksumError as exc:
        print(f"restore refused: {exc}; nothing was changed", file=sys.stderr)
        return EXIT_UNVERIFIED
    except InvalidBackup as exc:
        print(f"restore refused: {exc}; nothing was changed", file=sys.stderr)
        return EXIT_UNVERIFIED
    except OSError as exc:
        print(f"restore failed: {exc}", file=sys.stderr)
        return 1
    print(f"restored {args.source} to {target}")
    return 0
