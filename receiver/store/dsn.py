"""Keeping a PostgreSQL DSN's password out of messages.

libpq's own errors name the host, port and user but not the password; a message that
quotes the DSN (ours or a driver's) would. Every error the PostgreSQL store raises or
logs goes through the redactor made here.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import psycopg

from servicekit.redaction import replace_secrets

_URL_PASSWORD = re.compile(r"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@")
_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with the password of any DSN written in it replaced."""
    text = _URL_PASSWORD.sub(r"\1<redacted>@", text)
    return _KEYWORD_PASSWORD.sub(r"\1<redacted>", text)


def redactor(dsn: str) -> Callable[[str], str]:
    """A function removing `dsn`'s password (and the DSN itself) from a message."""
    try:
        password = psycopg.conninfo.conninfo_to_dict(dsn).get("password")
    except psycopg.ProgrammingError:
        password = None
    secrets = [dsn, str(password) if password else None]

    def scrub(text: str) -> str:
        return redact(replace_secrets(text, secrets))

    return scrub


def describe(dsn: str) -> str:
    """Where `dsn` points (host, port, database), for messages; never its password."""
    try:
        parts = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "the configured server"
    host = parts.get("host") or "localhost"
    port = parts.get("port") or "5432"
    return f"{host}:{port}/{parts.get('dbname') or parts.get('user') or ''}"
