"""JSON text for the store's TEXT columns, encoded without per-call set-up.

`json.dumps(obj, sort_keys=True)` builds a new encoder on every call, which costs more
than encoding a small label set; the hot path stores ~30 such objects per webhook.
Every function here returns exactly what `json.dumps(obj, sort_keys=True)` would.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii
from typing import Any

_SORTED = json.JSONEncoder(sort_keys=True)


def dumps_sorted(obj: Any) -> str:
    """`json.dumps(obj, sort_keys=True)`."""
    return _SORTED.encode(obj)


def scalar(value: str | float | None) -> str:
    """A string, number or None as JSON (`json.dumps` for those types, faster)."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    return json.dumps(value)


def dumps_labels(labels: dict[str, str]) -> str:
    """A flat string-to-string object (labels, annotations) as sorted JSON."""
    q = encode_basestring_ascii
    return "{" + ", ".join([f"{q(k)}: {q(v)}" for k, v in sorted(labels.items())]) + "}"
