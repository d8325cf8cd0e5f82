"""The links an incident offers: runbook and dashboard (from annotations), the alert's
source, and a new Alertmanager silence for its labels. Only http(s) URLs become links; a
dashboard path (the shipped rules' `/d/<uid>/...`) is joined to `grafana_url` first."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from receiver.templates.context import dashboard_link
from receiver.web.render import link

_RUNBOOK = ("runbook_url", "runbook")
_DASHBOARD = ("dashboard_url", "dashboard", "grafana_url")


def _first(
    annotations: list[dict[str, str]], names: tuple[str, ...], grafana_url: str = ""
) -> str | None:
    for doc in annotations:
        for name in names:
            value = doc.get(name)
            if isinstance(value, str):
                value = dashboard_link(value, grafana_url)
            if (url := link(value)) is not None:
                return url
    return None


def silence_url(external_url: str, labels: dict[str, str]) -> str | None:
    """Alertmanager's "new silence" form prefilled with `labels` (None without a URL)."""
    base = link(external_url)
    if base is None or not labels:
        return None
    matchers = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in sorted(labels.items())
    )
    return f"{base.rstrip('/')}/#/silences/new?filter={quote('{' + matchers + '}', safe='')}"


def links_of(doc: dict[str, Any], grafana_url: str = "") -> dict[str, str | None]:
    """`runbook`, `dashboard`, `source` and `silence` URLs of an incident detail (None
    where there is none, or where the text is not an http(s) URL)."""
    annotations = [doc["common_annotations"], *(a["annotations"] for a in doc["alerts"])]
    sources = [link(a["generator_url"]) for a in doc["alerts"]]
    labels = {**doc["common_labels"], **doc["group_labels"]}
    return {
        "runbook": _first(annotations, _RUNBOOK),
        "dashboard": _first(annotations, _DASHBOARD, grafana_url),
        "source": next((s for s in sources if s), None),
        "silence": silence_url(doc["external_url"], labels),
    }
