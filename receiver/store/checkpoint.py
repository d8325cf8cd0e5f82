"""WAL checkpoints of the SQLite store, on a thread and connection of their own."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import structlog

from receiver.store.connection import connect

log = structlog.get_logger("receiver.store")


class Checkpointer:
    """Copies the WAL into the database file on its own thread and connection.

    The writer's automatic checkpoint would run inside a COMMIT on the event loop, with
    two fsyncs; a PASSIVE checkpoint here runs beside the writer instead.
    """

    def __init__(self, path: Path, every: float = 0.2) -> None:
        self.path = path
        self.every = every
        self._event = threading.Event()
        self._stop = False
        self._last = 0.0
        self._thread = threading.Thread(target=self._run, name="store-checkpoint", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """Ask for a checkpoint (at most one per `every` seconds)."""
        now = time.monotonic()
        if now - self._last > self.every:
            self._last = now
            self._event.set()

    def _run(self) -> None:
        conn = connect(self.path, "NORMAL")
        try:
            while True:
                self._event.wait()
                self._event.clear()
                if self._stop:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:
                    log.warning("checkpoint_failed", error=str(exc))
        finally:
            conn.close()

    def close(self) -> None:
        """Stop the checkpoint thread (waiting up to 10 s for a checkpoint in progress)."""
        self._stop = True
        self._event.set()
        self._thread.join(10)
