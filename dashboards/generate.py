"""Generate tocsin's Grafana dashboards as JSON.

`python -m dashboards.generate` rewrites dashboards/*.json; `--check` only compares and exits
1 when a committed file differs. Each dashboard is one module here (`host_overview`,
`application`, `security_overview`, `alerting_pipeline`, `forecast`), built from the panel shapes in
`panels` (the SDK's panel builders) and the PromQL in `promql`, and assembled into the SDK's
dashboard model by `grafana`.
Portability rules: the datasource is always the `${datasource}` template variable, never a
literal UID; rate queries use `$__rate_interval`; every panel has a unit and a description;
uids are fixed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from dashboards import alerting_pipeline, application, forecast, host_overview, security_overview
from dashboards.grafana import Dashboard, to_json

OUT_DIR = Path(__file__).resolve().parent
DASHBOARDS: tuple[Callable[[], Dashboard], ...] = (
    host_overview.dashboard,
    application.dashboard,
    security_overview.dashboard,
    alerting_pipeline.dashboard,
    forecast.dashboard,
)


def generate() -> dict[str, str]:
    """File name → JSON text for every dashboard."""
    built = [build() for build in DASHBOARDS]
    return {dash.file_name: to_json(dash) for dash in built}


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) the committed JSON files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail if a committed file differs")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output directory")
    args = parser.parse_args(argv)
    stale = []
    for name, text in generate().items():
        path = args.out / name
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print("out of date (run python -m dashboards.generate): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
