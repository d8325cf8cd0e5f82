"""What the incidents list shows: one tab's incidents filtered by matchers (the API's
own query, `list_incidents`) and free text, sorted, grouped by a label and paged."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from multidict import MultiMapping

from receiver.api.incidents import STATES, list_incidents
from receiver.http.errors import JSONHTTPError
from receiver.matchers import Matcher, matches_all, split_matchers
from receiver.model.snapshot import SEVERITY_ORDER, incident_dict
from receiver.store.base import Row, Tx

# The newest this many incidents of a tab are considered; thousands page well below it.
MAX_MATCHED = 10_000
PAGE_SIZES = (50, 100, 500, 1000)
SORTS = ("newest", "oldest", "severity")
_LABEL_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]{0,127}")
_MAX_TEXT = 200


@dataclass(frozen=True)
class View:
    """The list's query string, checked: a bad value is a 400 naming its parameter."""

    state: str = "firing"
    match: tuple[str, ...] = ()
    matchers: tuple[Matcher, ...] = field(default=(), compare=False)
    text: str = ""
    group_by: str = ""
    sort: str = "newest"
    page: int = 1
    per_page: int = 100

    def query(self, **changes: Any) -> str:
        """This view's query string with `changes` applied (for tab, sort and page links)."""
        doc: dict[str, Any] = {
            "state": self.state,
            "match": list(self.match),
            "q": self.text,
            "group_by": self.group_by,
            "sort": self.sort,
            "page": self.page,
            "per_page": self.per_page,
            **changes,
        }
        return urlencode({k: v for k, v in doc.items() if v not in ("", [])}, doseq=True)


def _choice(q: MultiMapping[str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = q.get(name, default) or default
    if value not in allowed:
        raise JSONHTTPError(400, f"expected one of {', '.join(allowed)}", field=name)
    return value


def _number(q: MultiMapping[str], name: str, default: int, maximum: int) -> int:
    raw = q.get(name, "") or str(default)
    if not re.fullmatch(r"[0-9]{1,6}", raw) or not 1 <= int(raw) <= maximum:
        raise JSONHTTPError(400, f"expected an integer 1..{maximum}", field=name)
    return int(raw)


def parse_view(q: MultiMapping[str]) -> View:
    """The View of a request's query parameters."""
    texts = tuple(m for m in q.getall("match", []) if m.strip())
    matchers: list[Matcher] = []
    for text in texts:
        # One field may hold several, comma-separated, as amtool's and Alertmanager's
        # filters do (`{team="db",severity=~"critical|error"}`).
        try:
            matchers += split_matchers(text)
        except ValueError as exc:
            raise JSONHTTPError(400, str(exc), field="match") from None
    group_by = q.get("group_by", "")
    if group_by and not _LABEL_RE.fullmatch(group_by):
        raise JSONHTTPError(400, "expected a label name", field="group_by")
    text = q.get("q", "")
    if len(text) > _MAX_TEXT:
        raise JSONHTTPError(400, f"expected at most {_MAX_TEXT} characters", field="q")
    per_page = _number(q, "per_page", 100, max(PAGE_SIZES))
    if per_page not in PAGE_SIZES:
        raise JSONHTTPError(
            400, f"expected one of {', '.join(map(str, PAGE_SIZES))}", field="per_page"
        )
    return View(
        state=_choice(q, "state", STATES, "firing"),
        match=texts,
        matchers=tuple(matchers),
        text=text.strip(),
        group_by=group_by,
        sort=_choice(q, "sort", SORTS, "newest"),
        page=_number(q, "page", 1, 100_000),
        per_page=per_page,
    )


def labels_of(doc: dict[str, Any]) -> dict[str, str]:
    """Common labels merged with group labels, as the API's matchers see them."""
    return {**doc["common_labels"], **doc["group_labels"]}


def _has_text(doc: dict[str, Any], needle: str) -> bool:
    hay = [str(doc["id"]), doc["receiver"], doc["severity"]]
    for part in (labels_of(doc), doc["common_annotations"]):
        hay += [f"{k}={v}" for k, v in part.items()]
    return any(needle in h.lower() for h in hay)


def _sort_key(view: View) -> Any:
    if view.sort == "severity":
        return lambda d: (SEVERITY_ORDER.get(d["severity"], 99), -d["id"])
    if view.sort == "oldest":
        return lambda d: d["id"]
    return lambda d: -d["id"]


def fits(view: View, doc: dict[str, Any]) -> bool:
    """Whether one incident summary belongs in `view` (state, matchers, text)."""
    if doc["state"] != view.state or not matches_all(list(view.matchers), labels_of(doc)):
        return False
    return not view.text or _has_text(doc, view.text.lower())


@dataclass
class Page:
    """One page of a view: its incidents (in groups when grouped), totals, counts."""

    view: View
    matched: int
    items: list[dict[str, Any]]
    groups: list[tuple[str, list[dict[str, Any]]]]
    counts: dict[str, int]
    capped: bool

    @property
    def pages(self) -> int:
        """How many pages the matched incidents fill (at least one)."""
        return max(1, -(-self.matched // self.view.per_page))


def counts(tx: Tx) -> dict[str, int]:
    """Incidents per state, every state present."""
    rows = tx.all("SELECT state, COUNT(*) AS n FROM incidents GROUP BY state")
    found = {r["state"]: int(r["n"]) for r in rows}
    return {s: found.get(s, 0) for s in STATES}


def page_of(tx: Tx, view: View) -> Page:
    """Read one page of `view`."""
    docs = list_incidents(tx, [view.state], [], list(view.matchers), MAX_MATCHED)
    capped = len(docs) >= MAX_MATCHED
    if view.text:
        needle = view.text.lower()
        docs = [d for d in docs if _has_text(d, needle)]
    docs.sort(key=_sort_key(view))
    start = (view.page - 1) * view.per_page
    items = docs[start : start + view.per_page]
    groups: dict[str, list[dict[str, Any]]] = {}
    if view.group_by:
        for d in items:
            groups.setdefault(labels_of(d).get(view.group_by, ""), []).append(d)
    return Page(view, len(docs), items, sorted(groups.items()), counts(tx), capped)


def rows_by_id(tx: Tx, view: View, ids: list[int]) -> list[dict[str, Any]]:
    """The incidents of `ids` that belong in `view` (what a live update re-renders)."""
    if not ids:
        return []
    # Only placeholders are formatted into the SQL; the ids are bound parameters.
    marks = ",".join("?" * len(ids))
    rows: list[Row] = tx.all(f"SELECT * FROM incidents WHERE id IN ({marks})", ids)  # noqa: S608
    docs = []
    for row in rows:
        doc = incident_dict(row, [])
        if fits(view, doc):
            docs.append(doc)
    docs.sort(key=_sort_key(view))
    return docs


def unread_since(tx: Tx, since: float | None) -> int:
    """Incidents opened after `since` (every incident on a first visit is not 'unread')."""
    if since is None:
        return 0
    row = tx.one("SELECT COUNT(*) AS n FROM incidents WHERE created_at > ?", (since,))
    return int(row["n"]) if row else 0
