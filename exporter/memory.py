"""Keep the exporter's resident memory small on glibc: one malloc arena, and the heap
trimmed once start-up garbage is gone.

Measured with `make bench` (RSS after a few scrapes): glibc gives each thread that
allocates its own arena, and the collector lanes, the thread pools and the event loop
each kept one, about 1 MB together; start-up (config parsing, plugin discovery) leaves
freed pages inside the heap that `malloc_trim` hands back. The exporter allocates little
per scrape and from few threads at a time, so one arena costs no measurable contention.
Elsewhere (musl, macOS) both are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc

_M_ARENA_MAX = -8  # from glibc's malloc.h


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library with `mallopt` and `malloc_trim`, or None where it has neither.

    The process's own symbols come first (`dlopen(NULL)`: the libc the interpreter is
    linked against), so no `ldconfig -p` is forked; `find_library("c")` only when they
    lack the two calls, e.g. an interpreter linked statically. Looked up once per process.
    """
    libc = _with_malloc_tuning(None)
    if libc is None and (name := ctypes.util.find_library("c")) is not None:
        libc = _with_malloc_tuning(name)
    return libc


def _with_malloc_tuning(name: str | None) -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    if not (hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim")):
        return None
    return libc


def limit_arenas() -> None:
    """One malloc arena for every thread; call before any thread starts."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_ARENA_MAX, 1)


def trim() -> None:
    """Collect garbage, freeze what start-up left alive, and return the heap's free pages.

    Frozen objects (modules, classes, config: tens of thousands, alive for the life of
    the process) are left out of every later garbage collection, so a full collection
    walks only what scrapes allocate and no longer pauses a scrape for milliseconds.
    """
    gc.collect()
    gc.freeze()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
