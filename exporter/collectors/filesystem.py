"""filesystem: size, free space and inodes of every mounted filesystem, as node_exporter.

statvfs() on a dead network mount can block for minutes, so statvfs of anything but a
local filesystem (ext4, xfs, tmpfs, ...: answered from memory, statted inline) runs on a
helper thread (those mounts in one batch, `exporter.watchdog`) with a per-mount timeout.
A mount that timed out is reported with device_error 1 and is skipped (no new statvfs
piled onto it) until the blocked call returns.
"""

from __future__ import annotations

import os
import re
import select
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from typing import Annotated, NamedTuple, cast

import structlog
from annotated_types import Gt
from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, register
from exporter.families import gauge
from exporter.procfs import read_text
from exporter.watchdog import InlineRunner, Job, JobResult, State
from servicekit.values import Duration

DEFAULT_MOUNT_POINTS_EXCLUDE = (
    r"^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
)
DEFAULT_FS_TYPES_EXCLUDE = (
    r"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs"
    r"|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs"
    r"|squashfs|erofs|sysfs|tracefs)$"
)
_MOUNT_POINTS_EXCLUDE = re.compile(DEFAULT_MOUNT_POINTS_EXCLUDE)
_FS_TYPES_EXCLUDE = re.compile(DEFAULT_FS_TYPES_EXCLUDE)
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")
_LABELS = ["device", "fstype", "mountpoint"]
# (device, fstype, mountpoint)
Labels = tuple[str, str, str]
# A statvfs still running after this long has the mounts queued behind it moved on.
STATVFS_SPILL_AFTER = 0.05
# Filesystems whose statvfs is answered from in-memory counters without I/O or waiting on
# a server: statted inline. Everything else (nfs, cifs, fuse, zfs, btrfs, ...) may block.
INLINE_FS_TYPES = frozenset({"ext2", "ext3", "ext4", "xfs", "tmpfs", "ramfs", "vfat", "exfat"})

log = structlog.get_logger(__name__)


@dataclass
class FilesystemConfig:
    """`collectors.filesystem`: which mounts to report and how long statvfs may take."""

    mount_points_exclude: re.Pattern[str] = _MOUNT_POINTS_EXCLUDE
    fs_types_exclude: re.Pattern[str] = _FS_TYPES_EXCLUDE
    mount_timeout: Annotated[Duration, Gt(0)] = Duration(5.0)


class Mount(NamedTuple):
    """One line of the mount table."""

    device: str
    mountpoint: str
    fstype: str
    options: str


def _unescape(field: str) -> str:
    return _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mounts(text: str) -> list[Mount]:
    """The mount table in /proc/<pid>/mounts format, octal escapes resolved."""
    mounts = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        mounts.append(Mount(_unescape(parts[0]), _unescape(parts[1]), parts[2], parts[3]))
    return mounts


StatvfsFunc = Callable[[str], os.statvfs_result]


class _WatchedFile:
    """A /proc/<pid>/mounts kept open and read again only after the kernel says it changed.

    A mount table is pollable (proc(5)): a mount or unmount in its namespace raises
    POLLPRI on an open descriptor, so an unchanged table costs a poll instead of the
    kernel printing every mount again. procfs files report size 0, which tells them from
    a plain file (a copy under --path.procfs, a test fixture); that is read every time.
    """

    def __init__(self) -> None:
        self._path: str | None = None
        self._fd: int | None = None
        self._poll = select.poll()
        self._text: str | None = None

    def read(self, path: str) -> str:
        """The file's text, from the last read while the kernel reports no change."""
        if path != self._path:
            self.close()
            self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            self._path = path
            if os.fstat(self._fd).st_size == 0:
                self._poll.register(self._fd, select.POLLPRI)
            else:
                os.close(self._fd)
                self._fd = None
        if self._fd is None:
            return read_text(path)
        if self._text is None or self._poll.poll(0):
            self._text = _read_from_start(self._fd)
        return self._text

    def close(self) -> None:
        """Close the descriptor (the next read opens the file again)."""
        if self._fd is not None:
            self._poll.unregister(self._fd)
            os.close(self._fd)
        self._fd = self._path = self._text = None


def _read_from_start(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", errors="replace")


@register
class FilesystemCollector(Collector):
    """Size, free and available bytes, inodes, read-only state and errors per mount."""

    name = "filesystem"
    description = "filesystem usage via statvfs of each mount"
    Config = FilesystemConfig
    config: FilesystemConfig

    def __init__(self, ctx: CollectorContext, statvfs: StatvfsFunc = os.statvfs) -> None:
        super().__init__(ctx)
        self._mount_points_exclude = self.config.mount_points_exclude
        self._fs_types_exclude = self.config.fs_types_exclude
        self._timeout = float(self.config.mount_timeout)
        self._statvfs = statvfs
        # statvfs runs on the runner's worker, not inline, so a hung mount costs its own
        # metrics only; all mounts go in one batch, one hand-off per collection.
        self._runner = InlineRunner(STATVFS_SPILL_AFTER)
        self._lock = threading.Lock()
        # Mounts whose statvfs timed out and has not returned yet (for the recovery log).
        self._stuck: set[str] = set()
        self._mount_tables = (str(self.paths.proc("1/mounts")), str(self.paths.proc("mounts")))
        self._parsed: tuple[str, list[tuple[Labels, bool]], dict[str, str]] | None = None
        self._table = _WatchedFile()
        # Mount point → the path statvfs is called on (under --path.rootfs).
        self._host_paths: dict[str, str] = {}

    def _mount_table(self) -> str:
        # PID 1's table is the host's when only /proc is shared with a container.
        for path in self._mount_tables:
            try:
                return self._table.read(path)
            except FileNotFoundError:
                continue
            except OSError:
                if path == self._mount_tables[-1]:
                    raise
        raise CollectorUnavailable(f"{self._mount_tables[-1]} does not exist")

    async def stop(self) -> None:
        """Close the mount table kept open for change notifications."""
        self._table.close()

    def _wanted(self) -> tuple[list[tuple[Labels, bool]], dict[str, str]]:
        """The reported mounts' (labels, read-only?), and their mount points' fs types.

        Worked out again only when the mount table's text changes, which is rare.
        """
        text = self._mount_table()
        cached = self._parsed
        if cached is not None and cached[0] == text:
            return cached[1], cached[2]
        wanted: list[tuple[Labels, bool]] = []
        seen: set[Labels] = set()
        for mount in parse_mounts(text):
            mountpoint = self._strip_rootfs(mount.mountpoint)
            if self._mount_points_exclude.search(mountpoint):
                continue
            if self._fs_types_exclude.search(mount.fstype):
                continue
            labels = (mount.device, mount.fstype, mountpoint)
            if labels not in seen:
                seen.add(labels)
                wanted.append((labels, "ro" in mount.options.split(",")))
        by_mountpoint = {labels[2]: labels[1] for labels, _ in wanted}
        self._parsed = (text, wanted, by_mountpoint)
        return wanted, by_mountpoint

    def _strip_rootfs(self, mountpoint: str) -> str:
        root = str(self.paths.rootfs).rstrip("/")
        if not root or (mountpoint != root and not mountpoint.startswith(root + "/")):
            return mountpoint
        return mountpoint[len(root) :] or "/"

    def _stats(self, mounts: dict[str, str]) -> dict[str, os.statvfs_result | None]:
        """statvfs of each mount point (None where it failed or is still stuck).

        `mounts` maps mount point to filesystem type. Local filesystems answer statvfs from
        in-memory counters, so they are statted inline; the rest (network, FUSE, ...) go
        to the helper thread in one batch, so a hung one costs its own metrics only.
        """
        stats: dict[str, os.statvfs_result | None] = {}
        remote = []
        for mountpoint, fstype in mounts.items():
            if fstype not in INLINE_FS_TYPES:
                remote.append(mountpoint)
                continue
            try:
                stats[mountpoint] = self._statvfs(self._host_path(mountpoint))
            except OSError as exc:
                log.debug("statvfs_failed", mountpoint=mountpoint, error=str(exc))
                stats[mountpoint] = None
        if remote:
            stats.update(self._stats_on_helper(remote))
        return stats

    def _host_path(self, mountpoint: str) -> str:
        path = self._host_paths.get(mountpoint)
        if path is None:
            if len(self._host_paths) > 4096:
                self._host_paths.clear()
            path = self._host_paths[mountpoint] = str(self.paths.root(mountpoint))
        return path

    def _stats_on_helper(self, mountpoints: list[str]) -> dict[str, os.statvfs_result | None]:
        jobs = [
            Job(m, self._timeout, partial(self._statvfs_of, m, self._host_path(m)))
            for m in mountpoints
        ]
        done: Future[list[JobResult]] = Future()
        self._runner.submit(jobs, done.set_result)
        while True:
            try:
                results = done.result(timeout=self._runner.check())
                break
            except TimeoutError:
                continue
        stats: dict[str, os.statvfs_result | None] = {}
        for mountpoint, result in zip(mountpoints, results, strict=True):
            stats[mountpoint] = None
            if result.state is State.DONE:
                stats[mountpoint] = cast(os.statvfs_result, result.value)
            elif result.state is State.FAILED:
                log.debug("statvfs_failed", mountpoint=mountpoint, error=str(result.error))
            elif result.state is State.TIMED_OUT:
                log.warning("mount_unresponsive", mountpoint=mountpoint, timeout=self._timeout)
                with self._lock:
                    self._stuck.add(mountpoint)
        return stats

    def _statvfs_of(self, mountpoint: str, path: str) -> os.statvfs_result:
        try:
            return self._statvfs(path)
        finally:
            with self._lock:
                recovered = mountpoint in self._stuck
                self._stuck.discard(mountpoint)
            if recovered:
                log.info("mount_recovered", mountpoint=mountpoint)

    def collect(self) -> Iterable[Metric]:
        families = {
            key: gauge(f"node_filesystem_{key}", help_text, labels=_LABELS)
            for key, help_text in (
                ("size_bytes", "Filesystem size in bytes."),
                ("free_bytes", "Filesystem free space in bytes."),
                ("avail_bytes", "Filesystem space available to non-root users in bytes."),
                ("files", "Filesystem total file nodes."),
                ("files_free", "Filesystem total free file nodes."),
                ("readonly", "Filesystem read-only status."),
                (
                    "device_error",
                    "Whether an error occurred while getting statistics for the given device.",
                ),
            )
        }
        wanted, by_mountpoint = self._wanted()
        stats = self._stats(by_mountpoint)
        for labels, readonly in wanted:
            st = stats[labels[2]]
            families["device_error"].add_metric(labels, 0.0 if st else 1.0)
            families["readonly"].add_metric(labels, 1.0 if readonly else 0.0)
            if st is None:
                continue
            families["size_bytes"].add_metric(labels, float(st.f_blocks) * st.f_bsize)
            families["free_bytes"].add_metric(labels, float(st.f_bfree) * st.f_bsize)
            families["avail_bytes"].add_metric(labels, float(st.f_bavail) * st.f_bsize)
            families["files"].add_metric(labels, float(st.f_files))
            families["files_free"].add_metric(labels, float(st.f_ffree))
        yield from (family for family in families.values() if family.values)
