"""The filesystem collector keeps the mount table open and re-reads it only when the kernel
signals a change: a real mount and unmount must still show up on the next collection.

The collector runs in a child process with a mount namespace (and a PID namespace with its
own /proc, so /proc/1/mounts is that namespace's table) of its own, made by util-linux's
`unshare`; mounting a tmpfs there touches nothing outside. It needs CAP_SYS_ADMIN (root):
without it the test is skipped.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_binary
from tests.procs import REPO

CHILD = """
import json, subprocess, sys
from exporter.collector import CollectorContext
from exporter.collectors.filesystem import FilesystemCollector
from tests.registry import samples

target = sys.argv[1]
collector = FilesystemCollector(CollectorContext())

def mounted() -> bool:
    return any(dict(k[1]).get("mountpoint") == target for k in samples(collector))

seen = [mounted(), mounted()]
subprocess.run(["mount", "-t", "tmpfs", "tocsin-test", target], check=True)
seen += [mounted(), mounted()]
subprocess.run(["umount", target], check=True)
seen.append(mounted())
print(json.dumps(seen))
"""


def test_a_new_mount_and_an_unmount_show_up_on_the_next_collection(tmp_path: Path) -> None:
    unshare = require_binary("unshare")
    target = tmp_path / "mnt"
    target.mkdir()
    probe = subprocess.run(
        [unshare, "--mount", "--pid", "--fork", "--mount-proc", "true"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot make mount namespaces here: {probe.stderr.strip()}")
    out = subprocess.run(
        [
            unshare,
            "--mount",
            "--pid",
            "--fork",
            "--mount-proc",
            sys.executable,
            "-c",
            CHILD,
            str(target),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [False, False, True, True, False]
