"""`executemany` of an INSERT as multi-row INSERTs, on PostgreSQL.

psycopg's `executemany` sends one command per row, each a pass through its pipeline
loop; a webhook's 10 alerts cost 20 (their upserts and episodes), about half of the
commands its processing sends. One `INSERT ... VALUES (...), (...)` carries them all.

An upsert that meets one key twice in one statement fails ("ON CONFLICT DO UPDATE
command cannot affect row a second time"), where row-by-row upserts let the last copy
win. So only upserts whose DO UPDATE overwrites every other column from `excluded` are
rewritten, keeping the last copy of each key: the same rows as row by row. Any other
statement shape is left to `executemany`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_INSERT = re.compile(r"^(INSERT INTO \w+ \(([^)]*)\) VALUES )(\((?:%s, )*%s\))(.*)$", re.S)
_UPSERT = re.compile(r"^ ON CONFLICT \(([^)]*)\) DO UPDATE SET (.*)$", re.S)
_ASSIGN = re.compile(r"^\s*(\w+) = excluded\.(\w+)\s*$", re.I)
# PostgreSQL takes at most 65,535 parameters per statement.
_MAX_PARAMS = 16_384


def multirow(text: str, rows: Sequence[tuple[Any, ...]]) -> list[tuple[str, list[Any]]] | None:
    """The statements (with flat parameters) that insert `rows` as `text` would one by
    one, or None when `text` is not a shape this rewrites."""
    m = _INSERT.match(text)
    if m is None or len(rows) < 2:
        return None
    head, names, group, tail = m.groups()
    columns = [c.strip() for c in names.split(",")]
    if tail:
        keys = _upsert_keys(tail, columns)
        if keys is None:
            return None
        rows = list({tuple(r[i] for i in keys): r for r in rows}.values())
    per = max(1, _MAX_PARAMS // len(columns))
    out = []
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        sql = head + ", ".join([group] * len(chunk)) + tail
        out.append((sql, [v for r in chunk for v in r]))
    return out


def _upsert_keys(tail: str, columns: list[str]) -> list[int] | None:
    """Positions of the conflict key's columns, when every other column is overwritten
    from `excluded`; None otherwise."""
    m = _UPSERT.match(tail)
    if m is None:
        return None
    keys = [k.strip() for k in m.group(1).split(",")]
    assigned = set()
    for part in m.group(2).split(","):
        a = _ASSIGN.match(part)
        if a is None or a.group(1) != a.group(2):
            return None
        assigned.add(a.group(1))
    if not set(keys) <= set(columns) or assigned != set(columns) - set(keys):
        return None
    return [columns.index(k) for k in keys]
