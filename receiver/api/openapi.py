"""`GET /api/v1/openapi.json`: the OpenAPI 3.1 description of every route, kept as the
packaged `openapi.yaml` beside this module (tests check it against the router table)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import yaml
from aiohttp import web

PATH = "/api/v1/openapi.json"


@cache
def document() -> dict[str, Any]:
    """The OpenAPI document, read once from the package."""
    text = resources.files(__package__).joinpath("openapi.yaml").read_text(encoding="utf-8")
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


@cache
def _document_json() -> bytes:
    return json.dumps(document(), separators=(",", ":")).encode()


@cache
def query_parameters(path: str, method: str) -> frozenset[str] | None:
    """The query parameters the operation `method` on `path` (a route's canonical form,
    e.g. `/api/v1/incidents/{id}`) declares; None for an operation the document lacks.
    HEAD is answered by the GET handler, so it takes GET's parameters."""
    verb = "get" if method.upper() == "HEAD" else method.lower()
    operation = document()["paths"].get(path, {}).get(verb)
    if operation is None:
        return None
    return frozenset(p["name"] for p in _parameters(operation) if p["in"] == "query")


def _parameters(operation: dict[str, Any]) -> list[dict[str, Any]]:
    """The operation's parameters with `$ref`s into components resolved."""
    params = document()["components"]["parameters"]
    out = []
    for p in operation.get("parameters", []):
        ref = p.get("$ref")
        out.append(params[ref.rsplit("/", 1)[-1]] if ref else p)
    return out


async def get_document(_: web.Request) -> web.Response:
    """The document as JSON; public, like the probes: it holds no configuration."""
    return web.Response(body=_document_json(), content_type="application/json")


def setup(app: web.Application) -> None:
    app.router.add_get(PATH, get_document)
