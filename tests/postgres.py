"""A throwaway PostgreSQL cluster for the tests, from Debian's `postgresql` package.

`initdb` into a temporary directory, run as an unprivileged user (the server refuses to
run as root: when the tests run as root, as in CI, the cluster belongs to `postgres`
if that user exists, else to a `tocsin-pg` user created for it), `pg_ctl start` on a
free port of 127.0.0.1 with its unix socket in the same directory, and `pg_ctl stop` at
the end. Nothing shared or pre-existing is used. Each test gets a fresh database owned
by a role that logs in with a password over TCP, as a receiver in production would.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from tests.procs import free_port

ROLE = "tocsin"
PASSWORD = "pg-Secret-4b1d"
_SUPERUSER = "postgres"
_counter = itertools.count(1)


def find_pg_binary(name: str) -> str | None:
    """`initdb`/`pg_ctl` on PATH, or in Debian's versioned directory (not on PATH)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def _server_user() -> str | None:
    """The unprivileged user to run the server as, or None to run it as ourselves."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "tocsin-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "tocsin-pg"],
        check=True,
    )
    return "tocsin-pg"


class Cluster:
    """One PostgreSQL server in a temporary directory, stopped by `stop()`."""

    def __init__(self) -> None:
        initdb = find_pg_binary("initdb")
        pg_ctl = find_pg_binary("pg_ctl")
        assert initdb and pg_ctl, "find_pg_binary first (require it)"
        self.initdb, self.pg_ctl = initdb, pg_ctl
        self.user = _server_user()
        self.dir = Path(tempfile.mkdtemp(prefix="tocsin-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.log = self.dir / "server.log"
        if self.user is not None:
            record = pwd.getpwnam(self.user)
            os.chown(self.dir, record.pw_uid, record.pw_gid)
        self.dir.chmod(0o755)
        pwfile = self.dir / "pw"
        pwfile.write_text(PASSWORD)
        if self.user is not None:
            os.chown(pwfile, pwd.getpwnam(self.user).pw_uid, -1)
        self._as_user(
            self.initdb,
            "-D",
            str(self.data),
            "-U",
            _SUPERUSER,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={pwfile}",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        self.start()
        with self.admin() as conn:
            conn.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")

    def _as_user(self, *args: str) -> None:
        cmd = list(args) if self.user is None else ["runuser", "-u", self.user, "--", *args]
        subprocess.run(cmd, check=True, capture_output=True, cwd=self.dir, timeout=120)

    def start(self) -> None:
        """Start (or restart after `stop_server`) the server and wait until it accepts."""
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port}"
            f" -c unix_socket_directories={self.dir} -c fsync=on -c max_connections=200"
        )
        self._as_user(
            self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
        )

    def stop_server(self) -> None:
        """Stop the server (fast shutdown: connections are closed), keeping its data."""
        self._as_user(self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        """A superuser connection over the unix socket (autocommit)."""
        return psycopg.connect(
            host=str(self.dir), port=self.port, user=_SUPERUSER, dbname="postgres", autocommit=True
        )

    def create_database(self) -> str:
        """A fresh empty database owned by the test role; returns its DSN (password in)."""
        name = f"t{os.getpid()}_{next(_counter)}"
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {name} OWNER {ROLE}")
        return f"postgresql://{ROLE}:{PASSWORD}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        """Stop the server and remove its directory."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop_server()
        shutil.rmtree(self.dir, ignore_errors=True)
