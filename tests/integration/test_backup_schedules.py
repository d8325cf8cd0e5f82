"""The scheduled backups in deploy/: the systemd timer and service checked by
systemd-analyze, the Kubernetes CronJob checked against the StatefulSet it backs up, and
both command lines run for real against a running receiver."""

from __future__ import annotations

import asyncio
import configparser
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import require_binary
from tests.integration.receiver_harness import ReceiverProcess
from tests.procs import REPO

pytestmark = [
    pytest.mark.integration,
    pytest.mark.sqlite_only("backs up the SQLite file; PostgreSQL is backed up with pg_dump"),
]
SYSTEMD = REPO / "deploy" / "systemd"
K8S = REPO / "deploy" / "kubernetes"


def _objects() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (d["kind"], d["metadata"]["name"]): d
        for f in K8S.glob("*.yaml")
        if f.name != "kustomization.yaml"
        for d in yaml.safe_load_all(f.read_text())
        if d
    }


def _exec_start() -> list[str]:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(SYSTEMD / "tocsin-receiver-backup.service")
    return shlex.split(unit["Service"]["ExecStart"])


def test_systemd_analyze_verifies_the_backup_timer_and_service(tmp_path: Path) -> None:
    analyze = require_binary("systemd-analyze")
    for name in ("tocsin-receiver-backup.service", "tocsin-receiver-backup.timer"):
        text = (SYSTEMD / name).read_text()
        (tmp_path / name).write_text(text.replace("/usr/local/bin/tocsin-receiver", "/bin/true"))
    result = subprocess.run(
        [analyze, "verify", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tocsin" not in result.stdout + result.stderr
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read(SYSTEMD / "tocsin-receiver-backup.timer")
    assert timer["Timer"]["OnCalendar"] == "daily" and timer["Timer"].getboolean("Persistent")
    assert timer["Timer"]["Unit"] == "tocsin-receiver-backup.service"
    receiver = configparser.ConfigParser(strict=False, interpolation=None)
    receiver.read(SYSTEMD / "tocsin-receiver.service")
    # The backup runs as the receiver's user, on the receiver's storage path.
    backup = configparser.ConfigParser(strict=False, interpolation=None)
    backup.read(SYSTEMD / "tocsin-receiver-backup.service")
    assert backup["Service"]["User"] == receiver["Service"]["User"]
    storage = next(a for a in shlex.split(receiver["Service"]["ExecStart"]) if "storage" in a)
    assert storage in _exec_start()


def test_the_cronjob_backs_up_the_statefulsets_volume_daily() -> None:
    objects = _objects()
    sts = objects[("StatefulSet", "tocsin-receiver")]
    cron = objects[("CronJob", "tocsin-receiver-backup")]
    assert len(cron["spec"]["schedule"].split()) == 5
    assert cron["spec"]["schedule"].split()[2:] == ["*", "*", "*"]  # every day
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"]}
    template = sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"]
    assert claims["data"] == f"{template}-{sts['metadata']['name']}-0"
    assert ("PersistentVolumeClaim", claims["backups"]) in objects
    receiver_pod = sts["spec"]["template"]["spec"]
    assert pod["securityContext"] == receiver_pod["securityContext"]
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    receiver_mounts = receiver_pod["containers"][0]["volumeMounts"]
    assert {"name": "data", "mountPath": mounts["data"]} in receiver_mounts
    assert f"--storage.path={mounts['data']}" in container["args"]
    assert f"--dir={mounts['backups']}" in container["args"]
    assert any(a.startswith("--keep=") for a in container["args"])
    # Scheduled next to the receiver (ReadWriteOnce), and never behind its Services.
    affinity = pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert affinity[0]["labelSelector"]["matchLabels"] == sts["spec"]["selector"]["matchLabels"]
    labels = cron["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    for (kind, _), svc in objects.items():
        if kind == "Service":
            selector = svc["spec"]["selector"].items()
            assert not all(labels.get(k) == v for k, v in selector)


def _run(argv: list[str], storage: Path, backups: Path) -> str:
    """Run a scheduled backup command line with its two paths pointed into the test."""
    swap = {"--storage.path": str(storage), "--dir": str(backups)}
    args = []
    for arg in argv:
        flag = arg.split("=", 1)[0]
        args.append(f"{flag}={swap[flag]}" if flag in swap else arg)
    out = subprocess.run(
        [sys.executable, "-m", "receiver", *args],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


async def test_the_scheduled_command_lines_back_up_a_running_receiver(tmp_path: Path) -> None:
    systemd = _exec_start()
    assert systemd[0] == "/usr/local/bin/tocsin-receiver"
    container = _objects()[("CronJob", "tocsin-receiver-backup")]["spec"]["jobTemplate"]
    k8s = container["spec"]["template"]["spec"]["containers"][0]["args"]
    assert k8s[0] == "tocsin-receiver"
    receiver = await ReceiverProcess(tmp_path).start()
    try:
        for name, argv in (("systemd", systemd), ("k8s", k8s)):
            backups = tmp_path / name
            stdout = await asyncio.to_thread(_run, argv[1:], receiver.storage, backups)
            assert "backed up" in stdout
            made = sorted(backups.glob("receiver-*.db"))
            assert len(made) == 1 and (backups / f"{made[0].name}.sha256").exists()
    finally:
        receiver.stop()
