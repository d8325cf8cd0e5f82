"""A `Tx` over one psycopg connection, and the type adapters every connection gets."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
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


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """A lost server as `transient`; a replica's concurrent insert, or a deadlock, as
    `Conflict`."""
    try:
        yield
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        raise transient(exc) from exc
    except psycopg.errors.UniqueViolation as exc:
        if exc.diag.constraint_name in CONFLICTS:
            raise Conflict(f"another receiver changed it first: {exc}") from exc
        raise
    except psycopg.errors.TransactionRollback as exc:
        # A deadlock (or serialisation failure) between two writers, of two replicas or
        # two lanes of one: nothing is wrong with the job, so it is retried, not set aside.
        raise Conflict(f"another writer got in the way: {exc}") from exc


class PgTx:
    """The pipeline's transaction handle on a psycopg connection.

    With `defer` (the writer's jobs), `executemany` statements, whose results nobody
    reads, are held back and sent in one pipeline with the next statement that has a
    result, or by `flush()` at the end of the job: each saves a network round trip."""

    def __init__(self, conn: Connection, defer: bool = False) -> None:
        self.conn = conn
        self._rowcount = 0
        self._defer = defer
        self._held: list[tuple[str, list[tuple[Any, ...]]]] = []
        self.callbacks: list[Callable[[], None]] = []

    def _run(self, sql: str, params: Sequence[Any]) -> tuple[psycopg.Cursor[Row], bool]:
        text, returning = query(sql)
        cur = self.conn.cursor(row_factory=dict_row)
        with _translated():
            if self._held:
                with self.conn.pipeline():
                    self._send_held()
                    cur.execute(text, tuple(params))
            else:
                cur.execute(text, tuple(params))
        return cur, returning

    def _send_held(self) -> None:
        held, self._held = self._held, []
        cur = self.conn.cursor()
        for text, rows in held:
            cur.executemany(text, rows)

    def flush(self) -> None:
        """Send the statements still held back (before the job's savepoint ends)."""
        if self._held:
            with _translated(), self.conn.pipeline():
                self._send_held()

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
        self._held.append((text, [tuple(r) for r in rows]))
        if not self._defer:
            self.flush()

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
