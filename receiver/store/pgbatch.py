"""One writer batch on PostgreSQL: every job of the batch in one transaction, in as few
network round trips as the savepoints allow.

Each statement here is a round trip to the server, so the batch spends as few as it
can: the transaction's BEGIN, its commit mode and the first savepoint go in one pipeline
(one round trip); a lone job needs no savepoint; in a batch of several, one savepoint
named `job` is reused, the release of one job's savepoint and the opening of the next travel in one
message (several statements without parameters go as one simple query), a failed job's
`ROLLBACK TO` leaves the savepoint in place for the next job, and the last job's
savepoint is released by the COMMIT itself.

A batch of only non-durable jobs (processing, outbox bookkeeping: `write(durable=False)`)
commits with `synchronous_commit = off`: its COMMIT does not wait for the WAL flush.
That is safe here because everything those jobs write can be re-derived from the
durable inbox: a webhook stays `received` until its processing commits, and a crash
that loses an unflushed processing commit leaves it `received`, so the next start (or
another replica's adoption) processes it again. A power cut can lose at most the last
fraction of a second of such commits (`wal_writer_delay`), never a stored webhook.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from receiver.store.base import Conflict, StoreError
from receiver.store.pgtx import Connection, PgTx, transient

_RELAXED = "SET LOCAL synchronous_commit = off"
_OPEN = "SAVEPOINT job"
_NEXT = "RELEASE SAVEPOINT job; SAVEPOINT job"
_UNDO = "ROLLBACK TO SAVEPOINT job"


class Job:
    """A write job: `fn(tx)`, whether its commit must be durable, and its caller's
    future (whatever the writer settles)."""

    __slots__ = ("durable", "fn", "future")

    def __init__(self, fn: Callable[[Any], Any], future: Any, durable: bool) -> None:
        self.fn = fn
        self.future = future
        self.durable = durable


Outcome = tuple[Job, Any, BaseException | None, list[Callable[[], None]]]


def run_batch(conn: Connection, batch: Sequence[Job]) -> list[Outcome]:
    """Run every job of `batch` in the connection's transaction (the caller commits);
    one failing job is rolled back alone, a lost connection fails the batch."""
    relaxed = not any(job.durable for job in batch)
    opening = ([_RELAXED] if relaxed else []) + ([_OPEN] if len(batch) > 1 else [])
    if opening:
        _begin(conn, opening)
    if len(batch) == 1:
        return [_run_job(conn, batch[0], alone=True)]
    outcomes = []
    last = len(batch) - 1
    for i, job in enumerate(batch):
        outcome = _run_job(conn, job, alone=False)
        outcomes.append(outcome)
        if outcome[2] is not None:
            # ROLLBACK TO keeps the savepoint: the next job runs under it as it is.
            _send(conn, _UNDO)
        elif i < last:
            _send(conn, _NEXT)
    return outcomes


def _begin(conn: Connection, statements: list[str]) -> None:
    # In pipeline mode psycopg queues its own BEGIN with these and waits once: one
    # round trip for the lot.
    try:
        with conn.pipeline():
            for sql in statements:
                conn.execute(sql)
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        raise transient(exc) from exc


def _send(conn: Connection, sql: str) -> None:
    try:
        conn.execute(sql)
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        raise transient(exc) from exc


def _run_job(conn: Connection, job: Job, alone: bool) -> Outcome:
    # A lone job's failure rolls the whole transaction back; in a batch the caller rolls
    # back to the job's savepoint. A lost connection fails the batch (StoreError); the
    # inbox then retries from the table.
    tx = PgTx(conn, defer=True)
    try:
        result = job.fn(tx)
        tx.flush()
        return (job, result, None, tx.callbacks)
    except Exception as exc:
        if isinstance(exc, StoreError) and not isinstance(exc, Conflict):
            raise
        if alone:
            conn.rollback()
        return (job, None, exc, [])
