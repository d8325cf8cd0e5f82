"""`make bench`: run every tests/bench/bench_*.py module's `main()` in turn.

Each benchmark measures its reference (node_exporter, Alertmanager, mtail) in the same run
and prints ratios, so figures are comparable across machines. Pass module names to run a
subset: `python -m tests.bench exporter receiver`.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(
        info.name for info in pkgutil.iter_modules([str(here)]) if info.name.startswith("bench_")
    )
    wanted = {f"bench_{a.removeprefix('bench_')}" for a in argv}
    failed = 0
    for name in names:
        if wanted and name not in wanted:
            continue
        print(f"\n=== {name} ===", flush=True)
        module = importlib.import_module(f"tests.bench.{name}")
        try:
            failed += int(bool(module.main()))
        except Exception as exc:
            print(f"{name} failed: {exc!r}", flush=True)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
