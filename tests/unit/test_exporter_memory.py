"""The exporter's glibc malloc tuning: one arena, and a trim that hands freed pages back."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from exporter import memory


def test_trim_returns_freed_heap_pages() -> None:
    if memory._libc() is None:
        pytest.skip("not glibc: mallopt/malloc_trim are not available")
    # In a child so this test's own heap stays out of the figures. Every 64th block is
    # kept so the heap cannot shrink from its top on its own: only malloc_trim frees
    # the pages between them.
    script = textwrap.dedent(
        """
        from exporter import memory

        def rss_mb():
            with open("/proc/self/status") as f:
                line = next(l for l in f if l.startswith("VmRSS:"))
            return int(line.split()[1]) / 1024

        memory.limit_arenas()
        blocks = [bytearray(4096) for _ in range(40_000)]
        kept = blocks[::64]
        del blocks
        before = rss_mb()
        memory.trim()
        print(before - rss_mb(), len(kept))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    freed_mb = float(out.stdout.split()[0])
    assert freed_mb > 50


def test_start_up_leaves_rich_out_and_importable() -> None:
    # structlog imports rich whenever it is installed (~4 MB of the exporter's RSS); the
    # exporter imports structlog without it, and rich stays importable for plugins.
    pytest.importorskip("rich")
    script = textwrap.dedent(
        """
        import sys
        import exporter.cli, exporter.server, exporter.discovery
        exporter.discovery.available()
        print("rich" in sys.modules)
        import rich
        print(rich.__name__)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.split() == ["False", "rich"]


def test_trim_freezes_what_start_up_left_alive() -> None:
    # In a child, so this test process's own objects are not frozen.
    script = textwrap.dedent(
        """
        import gc
        from exporter import memory
        before = gc.get_freeze_count()
        memory.trim()
        print(before, gc.get_freeze_count())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    before, after = map(int, out.stdout.split())
    assert before == 0 and after > 1000
