"""timex: the kernel clock's synchronisation state from adjtimex(2), as node_exporter.

adjtimex with `modes` 0 only reads; it is called through ctypes (libc), not a subprocess.
Its return value is the clock state; TIME_ERROR (5) means unsynchronised. Offsets and
jitter are in nanoseconds when STA_NANO is set in `status`, else microseconds.
"""

from __future__ import annotations

import ctypes
import errno
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from exporter.collector import Collector, CollectorContext, CollectorUnavailable, register
from exporter.families import Family, counter, gauge

TIME_ERROR = 5
STA_NANO = 0x2000
NANOSECONDS = 1_000_000_000.0
MICROSECONDS = 1_000_000.0
# Frequencies are in parts per million with a 16-bit fraction.
PPM16FRAC = 1_000_000.0 * 65536.0


class Timex(ctypes.Structure):
    """`struct timex` of <sys/timex.h> (C's natural alignment gives the kernel's layout)."""

    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time_sec", ctypes.c_long),
        ("time_usec", ctypes.c_long),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 11),
    ]


def timex_families(state: int, tx: Timex) -> list[Family]:
    """node_exporter's timex families from adjtimex's return value and struct."""
    divisor = NANOSECONDS if tx.status & STA_NANO else MICROSECONDS
    values = (
        (
            gauge,
            "sync_status",
            "Is clock synchronized to a reliable server (1 = yes, 0 = no).",
            0.0 if state == TIME_ERROR else 1.0,
        ),
        (
            gauge,
            "offset_seconds",
            "Time offset in between local system and reference clock.",
            tx.offset / divisor,
        ),
        (
            gauge,
            "frequency_adjustment_ratio",
            "Local clock frequency adjustment.",
            1 + tx.freq / PPM16FRAC,
        ),
        (gauge, "maxerror_seconds", "Maximum error in seconds.", tx.maxerror / MICROSECONDS),
        (
            gauge,
            "estimated_error_seconds",
            "Estimated error in seconds.",
            tx.esterror / MICROSECONDS,
        ),
        (gauge, "status", "Value of the status array bits.", float(tx.status)),
        (gauge, "loop_time_constant", "Phase-locked loop time constant.", float(tx.constant)),
        (gauge, "tick_seconds", "Seconds between clock ticks.", tx.tick / MICROSECONDS),
        (gauge, "pps_frequency_hertz", "Pulse per second frequency.", tx.ppsfreq / PPM16FRAC),
        (gauge, "pps_jitter_seconds", "Pulse per second jitter.", tx.jitter / divisor),
        (gauge, "pps_shift_seconds", "Pulse per second interval duration.", float(tx.shift)),
        (
            gauge,
            "pps_stability_hertz",
            "Pulse per second stability, average of recent frequency changes.",
            tx.stabil / PPM16FRAC,
        ),
        (
            counter,
            "pps_jitter_total",
            "Pulse per second count of jitter limit exceeded events.",
            float(tx.jitcnt),
        ),
        (
            counter,
            "pps_calibration_total",
            "Pulse per second count of calibration intervals.",
            float(tx.calcnt),
        ),
        (
            counter,
            "pps_error_total",
            "Pulse per second count of calibration errors.",
            float(tx.errcnt),
        ),
        (
            counter,
            "pps_stability_exceeded_total",
            "Pulse per second count of stability limit exceeded events.",
            float(tx.stbcnt),
        ),
        (gauge, "tai_offset_seconds", "International Atomic Time (TAI) offset.", float(tx.tai)),
    )
    return [make(f"node_timex_{name}", doc, value=value) for make, name, doc, value in values]


@register
class TimexCollector(Collector):
    """Clock offset, frequency, error bounds and sync status from the kernel's NTP state."""

    name = "timex"
    description = "kernel clock synchronisation state from adjtimex(2)"

    def __init__(self, ctx: CollectorContext) -> None:
        super().__init__(ctx)
        try:
            # The process's own symbols, libc's among them: ctypes.util.find_library would
            # run ldconfig in a subprocess to find the same library.
            libc = ctypes.CDLL(None, use_errno=True)
            self._adjtimex = libc.adjtimex
        except (OSError, AttributeError) as exc:
            raise CollectorUnavailable("no adjtimex in this platform's C library") from exc
        self._adjtimex.argtypes = [ctypes.POINTER(Timex)]
        self._adjtimex.restype = ctypes.c_int

    def collect(self) -> Iterable[Metric]:
        tx = Timex()
        state = self._adjtimex(ctypes.byref(tx))
        if state < 0:
            code = ctypes.get_errno()
            if code == errno.EPERM:
                raise CollectorUnavailable("adjtimex is not permitted (seccomp?)")
            raise OSError(code, f"adjtimex: {errno.errorcode.get(code, code)}")
        yield from timex_families(state, tx)
