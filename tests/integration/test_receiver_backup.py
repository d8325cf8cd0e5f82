"""Backups and restores through the real CLI against real receiver processes: retention,
sha256sum-compatible checksums, refusal of corrupted backups, and the database lock that
keeps `restore` (with or without --force) and a second receiver off a running receiver's
database."""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path

import aiohttp
import pytest

from tests.integration.receiver_harness import ReceiverProcess, am_alert, am_payload, post_webhook
from tests.procs import REPO, free_port, run_module

pytestmark = [
    pytest.mark.integration,
    pytest.mark.sqlite_only("backup and restore of the SQLite file and its lock"),
]
_BACKED_UP = re.compile(r"backed up .* to (\S+) \(checksum in (\S+)\)")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_module(
        "receiver", *args, cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    )


async def post(receiver: ReceiverProcess, group: str) -> None:
    async with aiohttp.ClientSession() as s:
        status, doc = await post_webhook(s, receiver.url, am_payload(group, [am_alert(group)]))
    assert status == 200, doc
    await receiver.incident_id(group)


async def groups(receiver: ReceiverProcess) -> set[str]:
    status, doc = await receiver.api("GET", "/api/v1/incidents?limit=100")
    assert status == 200, doc
    return {i["group_labels"]["group"] for i in doc["incidents"]}


async def test_keep_3_after_5_backups_leaves_the_newest_3_checked_by_sha256sum(
    tmp_path: Path,
) -> None:
    receiver = await ReceiverProcess(tmp_path).start()
    backups = tmp_path / "backups"
    made: list[Path] = []
    try:
        await post(receiver, "kept")
        for _ in range(5):
            out = await asyncio.to_thread(
                cli, "backup", "--dir", str(backups), "--keep", "3",
                "--storage.path", str(receiver.storage),
            )  # fmt: skip
            assert out.returncode == 0, out.stderr
            match = _BACKED_UP.search(out.stdout)
            assert match is not None, out.stdout
            made.append(Path(match.group(1)))
    finally:
        receiver.stop()
    assert len(set(made)) == 5
    newest = sorted(p.name for p in made[-3:])
    assert sorted(p.name for p in backups.glob("*.db")) == newest
    assert sorted(p.name for p in backups.glob("*.sha256")) == [f"{n}.sha256" for n in newest]
    check = subprocess.run(
        ["sha256sum", "-c", *(f"{n}.sha256" for n in newest)],
        cwd=backups,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.splitlines() == [f"{n}: OK" for n in newest]


async def test_a_corrupted_backup_is_refused_and_nothing_is_touched(tmp_path: Path) -> None:
    receiver = await ReceiverProcess(tmp_path).start()
    good = tmp_path / "good.db"
    try:
        await post(receiver, "saved")
        out = await asyncio.to_thread(
            cli, "backup", "--to", str(good), "--storage.path", str(receiver.storage)
        )
        assert out.returncode == 0, out.stderr
    finally:
        receiver.stop()
    bad = tmp_path / "bad.db"
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad.write_bytes(bytes(data))
    (tmp_path / "bad.db.sha256").write_text(
        (tmp_path / "good.db.sha256").read_text().replace("good.db", "bad.db")
    )
    target = tmp_path / "restored"
    out = cli("restore", "--from", str(bad), "--storage.path", str(target))
    assert out.returncode == 4, out.stdout + out.stderr
    assert f"restore refused: {bad} does not match {bad}.sha256" in out.stderr
    assert "nothing was changed" in out.stderr and "Traceback" not in out.stderr
    assert not (target / "receiver.db").exists()
    # The file is one `sha256sum -c` agrees is damaged.
    check = subprocess.run(
        ["sha256sum", "-c", "bad.db.sha256"], cwd=tmp_path, capture_output=True, timeout=60
    )
    assert check.returncode == 1

    (tmp_path / "good.db.sha256").unlink()
    out = cli("restore", "--from", str(good), "--storage.path", str(target))
    assert out.returncode == 4 and "no checksum file" in out.stderr
    assert "--no-checksum" in out.stderr
    assert not (target / "receiver.db").exists()
    out = cli("restore", "--from", str(good), "--storage.path", str(target), "--no-checksum")
    assert out.returncode == 0, out.stderr
    again = await ReceiverProcess(tmp_path, storage=target).start()
    try:
        assert await groups(again) == {"saved"}
    finally:
        again.stop()


async def test_restore_is_refused_while_a_receiver_runs_and_works_once_it_stops(
    tmp_path: Path,
) -> None:
    receiver = await ReceiverProcess(tmp_path).start()
    snapshot = tmp_path / "snapshot.db"
    try:
        await post(receiver, "before")
        out = await asyncio.to_thread(
            cli, "backup", "--to", str(snapshot), "--storage.path", str(receiver.storage)
        )
        assert out.returncode == 0, out.stderr
        await post(receiver, "after")
        assert receiver.proc is not None
        for force in ([], ["--force"]):
            out = await asyncio.to_thread(
                cli, "restore", "--from", str(snapshot),
                "--storage.path", str(receiver.storage), *force,
            )  # fmt: skip
            assert out.returncode == 3, out.stdout + out.stderr
            assert f"is in use by process {receiver.proc.pid}" in out.stderr
            assert "Stop the receiver first; --force does not override" in out.stderr
        # A second receiver on the same storage path is refused the same way.
        out = await asyncio.to_thread(
            cli, "serve", "--storage.path", str(receiver.storage),
            "--web.listen-address", f"127.0.0.1:{free_port()}",
        )  # fmt: skip
        assert out.returncode == 1 and f"in use by process {receiver.proc.pid}" in out.stderr
        assert "\ncannot serve: " in out.stderr
        assert "Traceback" not in out.stderr
        # The running receiver still has its database: it stores and serves as before.
        await post(receiver, "still-working")
        assert await groups(receiver) == {"before", "after", "still-working"}
    finally:
        receiver.stop()
    out = cli("restore", "--from", str(snapshot), "--storage.path", str(receiver.storage))
    assert out.returncode == 1 and "pass --force" in out.stderr
    out = cli(
        "restore", "--from", str(snapshot), "--storage.path", str(receiver.storage), "--force"
    )
    assert out.returncode == 0, out.stderr
    restarted = await receiver.start()
    try:
        assert await groups(restarted) == {"before"}
    finally:
        restarted.stop()


async def test_a_killed_receiver_leaves_no_lock_behind(tmp_path: Path) -> None:
    receiver = await ReceiverProcess(tmp_path).start()
    snapshot = tmp_path / "snapshot.db"
    try:
        await post(receiver, "before-kill")
        out = await asyncio.to_thread(
            cli, "backup", "--to", str(snapshot), "--storage.path", str(receiver.storage)
        )
        assert out.returncode == 0, out.stderr
    finally:
        receiver.kill()  # SIGKILL: no clean shutdown, the kernel drops the flock
    out = cli(
        "restore", "--from", str(snapshot), "--storage.path", str(receiver.storage), "--force"
    )
    assert out.returncode == 0, out.stderr
