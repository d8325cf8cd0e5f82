"""The exit codes every subcommand uses, so scripts and systemd can tell them apart.

`deploy/systemd/tocsin-receiver.service` lists CONFIG_PROBLEM, USAGE and REFUSED in
`RestartPreventExitStatus=`: restarting cannot fix those, while FAILURE (a port in use,
an unreachable API) may pass.
"""

from __future__ import annotations

OK = 0
# The command ran and failed: the API answered an error, a send failed, the server
# could not listen.
FAILURE = 1
# A malformed command line (argparse's own code) or flag value.
USAGE = 2
# The configuration has problems (each printed, all at once).
CONFIG_PROBLEM = 3
# `serve` refused a non-loopback listen address without auth tokens or --web.insecure;
# `backup` refused a PostgreSQL backend (pg_dump/pg_restore back it up).
REFUSED = 4
