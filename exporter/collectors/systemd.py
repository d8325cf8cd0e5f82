"""systemd: unit states, start times, restarts, timers and sockets over D-Bus, as node_exporter.

Off by default, as upstream (Debian's packaged node_exporter turns it on). Each collection
opens its own connection to the system bus (`DBUS_SYSTEM_BUS_ADDRESS`, else
/var/run/dbus/system_bus_socket) on an event loop of the collecting worker thread, as
node_exporter connects on every scrape; the per-unit property reads go out concurrently,
a bounded number at a time. dbus-fast is imported only when the collector runs, so an
exporter without it enabled does not carry it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog
from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorUnavailable, register
from exporter.families import Family, counter, gauge

if TYPE_CHECKING:
    from dbus_fast.aio import MessageBus

log = structlog.get_logger("exporter.collectors.systemd")

SYSTEMD = "org.freedesktop.systemd1"
MANAGER_PATH = "/org/freedesktop/systemd1"
MANAGER = "org.freedesktop.systemd1.Manager"
PROPERTIES = "org.freedesktop.DBus.Properties"
# SystemState and timers' LastTriggerUSec exist from systemd 212 on (node_exporter #291).
MIN_VERSION_SYSTEM_STATE = 212
UNIT_STATES = ("active", "activating", "deactivating", "inactive", "failed")
# systemd reports "no limit" / "not counted" as the largest uint64.
_UNSET = 2**64 - 1
_VERSION = re.compile(r"[0-9]{3,}(\.[0-9]+)?")
# At most this many calls in flight: the system bus's default policy allows 128 pending
# replies per connection.
_IN_FLIGHT = 32
# One collection never waits longer than this on a systemd that stopped answering.
_DEADLINE = 30.0

_INCLUDE = re.compile(".+")
_EXCLUDE = re.compile(r".+\.(automount|device|mount|scope|slice)")


@dataclass
class SystemdConfig:
    """`collectors.systemd`: which units, and node_exporter's optional metric groups."""

    # A unit is reported when its whole name matches include and does not match exclude.
    unit_include: re.Pattern[str] = _INCLUDE
    unit_exclude: re.Pattern[str] = _EXCLUDE
    enable_task_metrics: bool = False
    enable_restarts_metrics: bool = False
    enable_start_time_metrics: bool = False


@dataclass(frozen=True)
class Unit:
    """One row of the manager's ListUnits."""

    name: str
    load_state: str
    active_state: str
    path: str


@dataclass
class SystemdState:
    """What one collection read from systemd."""

    version: str
    virtualization: str
    system_state: str | None
    units: list[Unit]
    # (unit path, interface, property) → value, for the reads that succeeded.
    properties: dict[tuple[str, str, str], Any] = field(default_factory=dict)


def parse_version(raw: str) -> float:
    """The numeric systemd version ("252.22-1~deb12u1" → 252.22), 0 when there is none."""
    match = _VERSION.search(raw)
    return float(match[0]) if match else 0.0


def wanted_properties(
    units: Sequence[Unit], config: SystemdConfig, version: float
) -> list[tuple[str, str, str]]:
    """The per-unit property reads node_exporter makes for these (filtered) units."""
    reads: list[tuple[str, str, str]] = []
    for unit in units:
        name, path = unit.name, unit.path
        if name.endswith(".service"):
            reads.append((path, f"{SYSTEMD}.Service", "Type"))
            if config.enable_restarts_metrics:
                reads.append((path, f"{SYSTEMD}.Service", "NRestarts"))
            if config.enable_task_metrics:
                reads.append((path, f"{SYSTEMD}.Service", "TasksCurrent"))
                reads.append((path, f"{SYSTEMD}.Service", "TasksMax"))
        elif name.endswith(".mount"):
            reads.append((path, f"{SYSTEMD}.Mount", "Type"))
        elif name.endswith(".timer") and version >= MIN_VERSION_SYSTEM_STATE:
            reads.append((path, f"{SYSTEMD}.Timer", "LastTriggerUSec"))
        elif name.endswith(".socket"):
            for prop in ("NAccepted", "NConnections", "NRefused"):
                reads.append((path, f"{SYSTEMD}.Socket", prop))
        if config.enable_start_time_metrics and unit.active_state == "active":
            reads.append((path, f"{SYSTEMD}.Unit", "ActiveEnterTimestamp"))
    return reads


def selected(units: Iterable[Unit], config: SystemdConfig) -> list[Unit]:
    """The loaded units whose names pass the include and exclude patterns."""
    return [
        u
        for u in units
        if u.load_state == "loaded"
        and config.unit_include.fullmatch(u.name)
        and not config.unit_exclude.fullmatch(u.name)
    ]


class _Reader:
    """One connection's worth of calls to systemd."""

    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus
        self.slots = asyncio.Semaphore(_IN_FLIGHT)

    async def call(
        self, path: str, interface: str, member: str, signature: str = "", body: Sequence[Any] = ()
    ) -> list[Any]:
        """A method call's reply body; raises DBusError on an error reply."""
        from dbus_fast import Message, MessageType
        from dbus_fast.errors import DBusError

        message = Message(
            destination=SYSTEMD,
            path=path,
            interface=interface,
            member=member,
            signature=signature,
            body=list(body),
        )
        async with self.slots:
            reply = await self.bus.call(message)
        if reply is None or reply.message_type == MessageType.ERROR:
            name = reply.error_name if reply is not None else "no reply"
            detail = reply.body[0] if reply is not None and reply.body else ""
            raise DBusError(str(name), str(detail), reply)
        return list(reply.body)

    async def get(self, path: str, interface: str, prop: str) -> Any:
        """A property's value (unwrapped from its variant)."""
        body = await self.call(path, PROPERTIES, "Get", "ss", (interface, prop))
        return body[0].value

    async def optional(self, path: str, interface: str, prop: str) -> tuple[bool, Any]:
        """(True, value), or (False, None) when systemd answers with an error."""
        from dbus_fast.errors import DBusError

        try:
            return True, await self.get(path, interface, prop)
        except DBusError as exc:
            log.debug("systemd_property_unreadable", path=path, property=prop, error=str(exc))
            return False, None


async def read_systemd(config: SystemdConfig) -> SystemdState:
    """Connect to the system bus and read everything one collection reports."""
    from dbus_fast import BusType
    from dbus_fast.aio import MessageBus
    from dbus_fast.errors import DBusError

    try:
        bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
    except (OSError, ValueError) as exc:
        raise CollectorUnavailable(f"no system D-Bus to connect to: {exc}") from exc
    try:
        reader = _Reader(bus)
        try:
            rows = (await reader.call(MANAGER_PATH, MANAGER, "ListUnits"))[0]
        except DBusError as exc:
            raise CollectorUnavailable(f"systemd does not answer on the system bus: {exc}") from exc
        ok, version = await reader.optional(MANAGER_PATH, MANAGER, "Version")
        version = str(version) if ok else ""
        ok, virtualization = await reader.optional(MANAGER_PATH, MANAGER, "Virtualization")
        virtualization = (str(virtualization) or "none") if ok else "unknown"
        units = [Unit(name=r[0], load_state=r[2], active_state=r[3], path=r[6]) for r in rows]
        numeric = parse_version(version)
        system_state = None
        if numeric >= MIN_VERSION_SYSTEM_STATE:
            ok, state = await reader.optional(MANAGER_PATH, MANAGER, "SystemState")
            system_state = str(state) if ok else None
        reads = wanted_properties(selected(units, config), config, numeric)
        results = await asyncio.gather(*(reader.optional(*read) for read in reads))
        properties = {read: value for read, (ok, value) in zip(reads, results, strict=True) if ok}
        return SystemdState(version, virtualization, system_state, units, properties)
    finally:
        bus.disconnect()


def families(state: SystemdState, config: SystemdConfig) -> list[Family]:
    """node_exporter's systemd families from what was read."""
    numeric = parse_version(state.version)
    out = [
        gauge("node_systemd_version", "Detected systemd version", ["version"]),
        gauge(
            "node_systemd_virtualization_info",
            "Detected virtualization technology",
            ["virtualization_type"],
        ),
    ]
    out[0].add_metric([state.version], numeric)
    out[1].add_metric([state.virtualization], 1.0)
    summary = dict.fromkeys(UNIT_STATES, 0.0)
    for unit in state.units:
        summary[unit.active_state] = summary.get(unit.active_state, 0.0) + 1.0
    units = gauge("node_systemd_units", "Summary of systemd unit states", ["state"])
    units.values.extend(((s,), n) for s, n in summary.items())
    out.append(units)
    out.extend(_unit_families(state, config))
    if state.system_state is not None:
        running = 1.0 if state.system_state == "running" else 0.0
        out.append(
            gauge(
                "node_systemd_system_running",
                "Whether the system is operational (see 'systemctl is-system-running')",
                value=running,
            )
        )
    return [f for f in out if f.values]


def _unit_families(state: SystemdState, config: SystemdConfig) -> list[Family]:
    props = state.properties
    unit_state = gauge("node_systemd_unit_state", "Systemd unit", ["name", "state", "type"])
    start = gauge(
        "node_systemd_unit_start_time_seconds",
        "Start time of the unit since unix epoch in seconds.",
        ["name"],
    )
    tasks_current = gauge(
        "node_systemd_unit_tasks_current", "Current number of tasks per Systemd unit", ["name"]
    )
    tasks_max = gauge(
        "node_systemd_unit_tasks_max", "Maximum number of tasks per Systemd unit", ["name"]
    )
    restarts = counter(
        "node_systemd_service_restart_total", "Service unit count of Restart triggers", ["name"]
    )
    timer = gauge(
        "node_systemd_timer_last_trigger_seconds", "Seconds since epoch of last trigger.", ["name"]
    )
    accepted = counter(
        "node_systemd_socket_accepted_connections_total",
        "Total number of accepted socket connections",
        ["name"],
    )
    current = gauge(
        "node_systemd_socket_current_connections", "Current number of socket connections", ["name"]
    )
    # A gauge despite its name, as node_exporter declares it.
    refused = gauge(
        "node_systemd_socket_refused_connections_total",
        "Total number of refused socket connections",
        ["name"],
    )
    for unit in selected(state.units, config):
        name, path = unit.name, unit.path
        kind = name.rpartition(".")[2].capitalize()
        unit_type = str(props.get((path, f"{SYSTEMD}.{kind}", "Type"), ""))
        for s in UNIT_STATES:
            unit_state.add_metric([name, s, unit_type], 1.0 if s == unit.active_state else 0.0)
        service = f"{SYSTEMD}.Service"
        if (path, service, "NRestarts") in props:
            restarts.add_metric([name], float(props[(path, service, "NRestarts")]))
        for family, prop in ((tasks_current, "TasksCurrent"), (tasks_max, "TasksMax")):
            value = props.get((path, service, prop))
            if value is not None and value != _UNSET:
                family.add_metric([name], float(value))
        if config.enable_start_time_metrics:
            if unit.active_state != "active":
                start.add_metric([name], 0.0)
            elif (path, f"{SYSTEMD}.Unit", "ActiveEnterTimestamp") in props:
                usec = props[(path, f"{SYSTEMD}.Unit", "ActiveEnterTimestamp")]
                start.add_metric([name], float(usec) / 1e6)
        if (path, f"{SYSTEMD}.Timer", "LastTriggerUSec") in props:
            usec = props[(path, f"{SYSTEMD}.Timer", "LastTriggerUSec")]
            timer.add_metric([name], float(usec) / 1e6)
        _socket(props, path, name, accepted, current, refused)
    return [
        unit_state,
        start,
        tasks_current,
        tasks_max,
        restarts,
        timer,
        accepted,
        current,
        refused,
    ]


def _socket(
    props: dict[tuple[str, str, str], Any],
    path: str,
    name: str,
    accepted: Family,
    current: Family,
    refused: Family,
) -> None:
    # As node_exporter: each count is reported only when the ones before it were read.
    socket = f"{SYSTEMD}.Socket"
    for family, prop in ((accepted, "NAccepted"), (current, "NConnections"), (refused, "NRefused")):
        if (path, socket, prop) not in props:
            return
        family.add_metric([name], float(props[(path, socket, prop)]))


@register
class SystemdCollector(Collector):
    """systemd's units (state, type, start time, restarts, tasks), timers and sockets."""

    name = "systemd"
    default_enabled = False
    description = "systemd units, timers and sockets over the system D-Bus"
    Config = SystemdConfig
    config: SystemdConfig

    def collect(self) -> Iterable[Metric]:
        state = asyncio.run(asyncio.wait_for(read_systemd(self.config), _DEADLINE))
        return families(state, self.config)
