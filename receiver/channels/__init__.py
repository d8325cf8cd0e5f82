"""Built-in channel types, one module each; importing a module registers its type."""

from __future__ import annotations

import functools
import sys

from servicekit.submodules import import_submodules


@functools.cache
def load_all() -> None:
    """Import every channel module in this package once, so each registers itself."""
    import_submodules(sys.modules[__name__])
