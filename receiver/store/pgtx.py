"""A `Tx` over one psycopg connection, and the type adapters every connection gets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.adapt import Buffer, Dumper, Loader
from psycopg.rows import dict_row

from receiver.store.base import Conflict, Row, StoreError
from receiver.store.dialect import query

Connection = psycopg.Connection[Any]
# Unique indexes that another receiver's concurrent, equally valid insert can trip: the
# job is retried (and then sees that row) instead of its webhook being set aside.
CONFLICTS = frozenset({"incidents_open_key"})


class _BoolAsInteger(Dumper):
    """Python booleans as 1/0: the portable schema keeps flags in INTEGER columns."""

    oid = psycopg.postgres.types["int8"].oid

    def dump(self, obj: Any) -> Buffer:
        return b"1" if obj else b"0"


class _NumericAsNumber(Loader):
    """NUMERIC results (SUM of integers) as int or float, as SQLite returns them."""

    def load(self, data: Buffer) -> int | float:
        value = Decimal(bytes(data).decode("ascii"))
        return int(value) if value == value.to_integral_value() else float(value)


def configure(conn: Connection) -> None:
    """Adapters for a new pool connection (psycopg_pool's `configure` hook)."""
    conn.adapters.register_dumper(bool, _BoolAsInteger)
    conn.adapters.register_loader("numeric", _NumericAsNumber)


def transient(exc: psycopg.Error) -> StoreError:
    """A lost connection or an unreachable server as the store's own error, which the
    inbox and the loops treat as "try again" rather than as a bad webhook."""
    return StoreError(f"database unavailable: {type(exc).__name__}: {exc}")


class PgTx:
    """The pipeline's transaction handle on a psycopg connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._rowcount = 0
        self.callbacks: list[Callable[[], None]] = []

    def _run(self, sql: str, params: Sequence[Any]) -> tuple[psycopg.Cursor[Row], bool]:
        text, returning = query(sql)
        cur = self.conn.cursor(row_factory=dict_row)
        try:
            cur.execute(text, tuple(params))
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise transient(exc) from exc
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name in CONFLICTS:
                raise Conflict(f"another receiver changed it first: {exc}") from exc
            raise
        return cur, returning

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; an INSERT into a table with an id returns the new id."""
        cur, returning = self._run(sql, params)
        self._rowcount = cur.rowcount
        if not returning:
            return 0
        row = cur.fetchone()
        return int(row["id"]) if row else 0

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run a statement once per row of parameters (no id returned)."""
        text, returning = query(sql)
        if returning:
            text = text.removesuffix(" RETURNING id")
        try:
            self.conn.cursor().executemany(text, [tuple(r) for r in rows])
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise transient(exc) from exc

    def rowcount(self) -> int:
        """Rows changed by the last `execute`."""
        return self._rowcount

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The query's first row, or None."""
        cur, _ = self._run(sql, params)
        return cur.fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of the query."""
        cur, _ = self._run(sql, params)
        return cur.fetchall()

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the event loop once this transaction has committed."""
        self.callbacks.append(fn)
