"""tocsin exporter: node_exporter-compatible host metrics plus application and security metrics."""

import sys

__version__ = "0.1.0"


def _structlog_without_rich() -> None:
    """Import structlog with `rich` held back, then let `rich` be imported again.

    structlog's `dev` module (imported by structlog itself) imports rich whenever it is
    installed, to draw tracebacks on a terminal; with its pygments that is about 4 MB of
    the exporter's resident memory (measured: 46.9 against 42.9 MB with every module the
    exporter imports at start-up), for output the exporter never shows in service. Held
    back only while structlog is imported: a plugin that imports rich later gets it.
    """
    if "structlog" in sys.modules or "rich" in sys.modules:
        return
    sys.modules["rich"] = None  # type: ignore[assignment]  # import rich → ImportError
    try:
        import structlog  # noqa: F401  (imported here, first, to keep rich out)
    finally:
        if sys.modules.get("rich", "") is None:
            del sys.modules["rich"]


_structlog_without_rich()
