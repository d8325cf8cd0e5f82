"""Request bodies as `tocsin-receiver render` shows them."""

from __future__ import annotations

import json
from typing import Any


def json_preview(document: Any) -> str:
    """A request body as `tocsin-receiver render` shows it: indented, non-ASCII kept."""
    return json.dumps(document, indent=2, ensure_ascii=False)
