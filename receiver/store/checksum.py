"""SHA-256 files beside backups, in the format `sha256sum` writes and `sha256sum -c` checks:
one line, `<64 hex digits>  <file name>`."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

SUFFIX = ".sha256"
_LINE = re.compile(r"([0-9a-fA-F]{64}) [ *](.+)")
_CHUNK = 1 << 20


class ChecksumError(ValueError):
    """A checksum file is missing, unreadable, malformed, or does not match its file."""


class MissingChecksum(ChecksumError):
    """There is no checksum file at all (a backup made before backups had one)."""


def checksum_path(file: Path) -> Path:
    """Where the checksum of `file` is kept: `<file>.sha256`."""
    return file.with_name(file.name + SUFFIX)


def sha256_of(file: Path) -> str:
    """The hex SHA-256 of a file's content, read in chunks (backups can be large)."""
    digest = hashlib.sha256()
    with file.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_checksum(file: Path, hexdigest: str) -> Path:
    """Write `<file>.sha256` atomically (a half-written one would refuse a good backup)."""
    target = checksum_path(file)
    tmp = target.with_name(target.name + ".tmp")
    with tmp.open("w", encoding="ascii") as f:
        # The bare name, as `cd DIR && sha256sum FILE` writes it, so the pair can move.
        f.write(f"{hexdigest}  {file.name}\n")
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(target)
    return target


def read_checksum(file: Path) -> str:
    """The hex digest recorded for `file`; ChecksumError when missing or malformed."""
    path = checksum_path(file)
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise MissingChecksum(f"no checksum file {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ChecksumError(f"cannot read checksum file {path}: {exc}") from None
    lines = [line for line in text.splitlines() if line.strip()]
    match = _LINE.fullmatch(lines[0]) if len(lines) == 1 else None
    if match is None:
        raise ChecksumError(f"{path} is not a sha256sum line (`<64 hex digits>  <file name>`)")
    return match.group(1).lower()


def verify(file: Path) -> str:
    """Check `file` against `<file>.sha256`; returns the digest, raises ChecksumError."""
    expected = read_checksum(file)
    actual = sha256_of(file)
    if actual != expected:
        raise ChecksumError(
            f"{file} does not match {checksum_path(file)} (expected sha256 {expected},"
            f" got {actual}): the file is damaged or was changed"
        )
    return actual
