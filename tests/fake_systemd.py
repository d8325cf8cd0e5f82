"""A stand-in for systemd's D-Bus API (org.freedesktop.systemd1), served with dbus-fast.

Run as `python -m tests.fake_systemd <bus address>`: it takes the systemd1 name on that
bus, exports the manager and one object per unit in UNITS, prints "ready" and serves
until SIGTERM. Only the calls and properties the exporter's systemd collector reads are
implemented, with the D-Bus signatures real systemd uses.
"""

# dbus-fast reads each D-Bus signature from the Annotated return type.
from __future__ import annotations

import asyncio
import signal
import sys
from typing import Annotated, Any

from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusSignature, DBusStr, DBusUInt32, DBusUInt64
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_property, method

UNSET = 2**64 - 1
MANAGER = {"Version": "252.22-1~deb12u1", "Virtualization": "kvm", "SystemState": "degraded"}
# name → (load state, active state, sub state, properties by interface suffix)
UNITS: dict[str, tuple[str, str, str, dict[str, dict[str, Any]]]] = {
    "ssh.service": ("loaded", "active", "running", {
        "Service": {"Type": "notify", "NRestarts": 2, "TasksCurrent": 1, "TasksMax": 4915},
        "Unit": {"ActiveEnterTimestamp": 1764620000123456},
    }),
    "cron.service": ("loaded", "active", "running", {
        "Service": {"Type": "simple", "NRestarts": 0, "TasksCurrent": 1, "TasksMax": UNSET},
        "Unit": {"ActiveEnterTimestamp": 1764619990500000},
    }),
    "nginx.service": ("loaded", "failed", "failed", {
        "Service": {"Type": "forking", "NRestarts": 5, "TasksCurrent": UNSET, "TasksMax": 4915},
        "Unit": {"ActiveEnterTimestamp": 1764620100000000},
    }),
    "backup.service": ("loaded", "inactive", "dead", {
        "Service": {"Type": "oneshot", "NRestarts": 0, "TasksCurrent": UNSET, "TasksMax": 4915},
        "Unit": {"ActiveEnterTimestamp": 0},
    }),
    "getty@tty1.service": ("loaded", "activating", "start", {
        "Service": {"Type": "idle", "NRestarts": 0, "TasksCurrent": 0, "TasksMax": 4915},
        "Unit": {"ActiveEnterTimestamp": 0},
    }),
    "php-fpm.service": ("loaded", "reloading", "reload", {
        "Service": {"Type": "notify", "NRestarts": 1, "TasksCurrent": 3, "TasksMax": 4915},
        "Unit": {"ActiveEnterTimestamp": 1764620050000000},
    }),
    "apt-daily.timer": ("loaded", "active", "waiting", {
        "Timer": {"LastTriggerUSec": 1764590400250000},
        "Unit": {"ActiveEnterTimestamp": 1764619980000000},
    }),
    "dbus.socket": ("loaded", "active", "running", {
        "Socket": {"NAccepted": 12, "NConnections": 1, "NRefused": 0},
        "Unit": {"ActiveEnterTimestamp": 1764619979000000},
    }),
    "home.mount": ("loaded", "active", "mounted", {
        "Mount": {"Type": "ext4"},
        "Unit": {"ActiveEnterTimestamp": 1764619978000000},
    }),
    "dev-sda1.device": ("loaded", "active", "plugged", {"Unit": {"ActiveEnterTimestamp": 1}}),
    "user.slice": ("loaded", "active", "active", {"Unit": {"ActiveEnterTimestamp": 1}}),
    "missing.service": ("not-found", "inactive", "dead", {"Unit": {"ActiveEnterTimestamp": 0}}),
}  # fmt: skip


def unit_path(name: str) -> str:
    """systemd's object path for a unit: every byte outside [A-Za-z0-9] as _xx."""
    escaped = "".join(c if c.isascii() and c.isalnum() else f"_{ord(c):02x}" for c in name)
    return f"/org/freedesktop/systemd1/unit/{escaped}"


class Manager(ServiceInterface):
    """org.freedesktop.systemd1.Manager: ListUnits and three properties."""

    def __init__(self) -> None:
        super().__init__("org.freedesktop.systemd1.Manager")

    @method()
    def ListUnits(self) -> Annotated[list[list[Any]], DBusSignature("a(ssssssouso)")]:
        return [
            [name, name, load, active, sub, "", unit_path(name), 0, "", "/"]
            for name, (load, active, sub, _) in UNITS.items()
        ]

    @dbus_property(access=PropertyAccess.READ)
    def Version(self) -> DBusStr:
        return MANAGER["Version"]

    @dbus_property(access=PropertyAccess.READ)
    def Virtualization(self) -> DBusStr:
        return MANAGER["Virtualization"]

    @dbus_property(access=PropertyAccess.READ)
    def SystemState(self) -> DBusStr:
        return MANAGER["SystemState"]


class UnitIface(ServiceInterface):
    """org.freedesktop.systemd1.Unit: the start timestamp."""

    def __init__(self, props: dict[str, Any]) -> None:
        super().__init__("org.freedesktop.systemd1.Unit")
        self.props = props

    @dbus_property(access=PropertyAccess.READ)
    def ActiveEnterTimestamp(self) -> DBusUInt64:
        return int(self.props["ActiveEnterTimestamp"])


class ServiceIface(ServiceInterface):
    """org.freedesktop.systemd1.Service: type, restarts, tasks."""

    def __init__(self, props: dict[str, Any]) -> None:
        super().__init__("org.freedesktop.systemd1.Service")
        self.props = props

    @dbus_property(access=PropertyAccess.READ)
    def Type(self) -> DBusStr:
        return str(self.props["Type"])

    @dbus_property(access=PropertyAccess.READ)
    def NRestarts(self) -> DBusUInt32:
        return int(self.props["NRestarts"])

    @dbus_property(access=PropertyAccess.READ)
    def TasksCurrent(self) -> DBusUInt64:
        return int(self.props["TasksCurrent"])

    @dbus_property(access=PropertyAccess.READ)
    def TasksMax(self) -> DBusUInt64:
        return int(self.props["TasksMax"])


class MountIface(ServiceInterface):
    """org.freedesktop.systemd1.Mount: the filesystem type."""

    def __init__(self, props: dict[str, Any]) -> None:
        super().__init__("org.freedesktop.systemd1.Mount")
        self.props = props

    @dbus_property(access=PropertyAccess.READ)
    def Type(self) -> DBusStr:
        return str(self.props["Type"])


class TimerIface(ServiceInterface):
    """org.freedesktop.systemd1.Timer: when it last fired."""

    def __init__(self, props: dict[str, Any]) -> None:
        super().__init__("org.freedesktop.systemd1.Timer")
        self.props = props

    @dbus_property(access=PropertyAccess.READ)
    def LastTriggerUSec(self) -> DBusUInt64:
        return int(self.props["LastTriggerUSec"])


class SocketIface(ServiceInterface):
    """org.freedesktop.systemd1.Socket: connection counts."""

    def __init__(self, props: dict[str, Any]) -> None:
        super().__init__("org.freedesktop.systemd1.Socket")
        self.props = props

    @dbus_property(access=PropertyAccess.READ)
    def NAccepted(self) -> DBusUInt32:
        return int(self.props["NAccepted"])

    @dbus_property(access=PropertyAccess.READ)
    def NConnections(self) -> DBusUInt32:
        return int(self.props["NConnections"])

    @dbus_property(access=PropertyAccess.READ)
    def NRefused(self) -> DBusUInt32:
        return int(self.props["NRefused"])


_INTERFACES = {
    "Unit": UnitIface,
    "Service": ServiceIface,
    "Mount": MountIface,
    "Timer": TimerIface,
    "Socket": SocketIface,
}


async def serve(address: str) -> None:
    """Take org.freedesktop.systemd1 on `address` and serve until SIGTERM."""
    bus = await MessageBus(bus_address=address).connect()
    bus.export("/org/freedesktop/systemd1", Manager())
    for name, (_, _, _, props) in UNITS.items():
        for suffix, values in props.items():
            bus.export(unit_path(name), _INTERFACES[suffix](values))
    await bus.request_name("org.freedesktop.systemd1")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    bus.disconnect()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
