"""The OpenAPI document: valid, in step with the router table, and true of a live receiver
(a property-based run of schemathesis driven by the document itself)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from receiver.api.openapi import document
from receiver.commands.config_file import default_config
from receiver.service.app import make_app
from receiver.service.lifecycle import Service
from receiver.service.reload import Reloader
from tests.conftest import using_backend
from tests.integration.receiver_harness import ReceiverProcess, am_alert, am_payload, post_webhook

pytestmark = pytest.mark.integration

TOKEN = "schemathesis-token"
CONFIG = {
    "auth": {"tokens": [{"name": "contract", "roles": ["admin", "ingest"], "token": TOKEN}]},
}
# Each operation gets this many generated requests: enough to reach every documented
# parameter and body shape, few enough that the whole run stays well under a minute.
EXAMPLES = 25


@pytest.fixture(scope="module")
def live_schema(
    tmp_path_factory: pytest.TempPathFactory, module_backend: tuple[str, str | None]
) -> Iterator[schemathesis.BaseSchema]:
    tmp: Path = tmp_path_factory.mktemp("openapi")
    with using_backend(*module_backend):
        receiver = ReceiverProcess(tmp, CONFIG).start_blocking()
    try:
        # One incident (id 1), so generated ids reach the actions' 200 and 409 answers too.
        asyncio.run(_seed(receiver))
        schema = schemathesis.openapi.from_url(receiver.url + "/api/v1/openapi.json")
        # The event stream never ends; its own tests read it (test_receiver_events.py).
        yield schema.exclude(path="/api/v1/events")
    finally:
        receiver.stop()


async def _seed(receiver: ReceiverProcess) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as s:
        status, _ = await post_webhook(
            s, receiver.url, am_payload("seed", [am_alert("s1")]), headers
        )
    assert status == 200
    await receiver.incident_id("seed", TOKEN)


OPERATIONS = sorted(
    (path, method)
    for path, item in document()["paths"].items()
    for method in item
    if path != "/api/v1/events"
)


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_live_receiver_answers_as_documented(
    live_schema: schemathesis.BaseSchema, path: str, method: str
) -> None:
    operation = live_schema[path][method]
    statuses: list[int] = []

    # Valid requests and invalid ones (wrong types, out-of-range values, missing fields):
    # both must be answered as documented, the invalid ones with a documented 4xx.
    cases = st.one_of(operation.as_strategy(mode) for mode in GenerationMode)

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def conforms(case: schemathesis.Case) -> None:
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {TOKEN}"},
            checks=[
                not_a_server_error,
                status_code_conformance,
                content_type_conformance,
                response_schema_conformance,
            ],
            timeout=30,
        )
        statuses.append(response.status_code)

    conforms()
    assert statuses, "no request reached the receiver"


def test_document_is_valid_openapi_3_1() -> None:
    doc = document()
    assert doc["openapi"].startswith("3.1")
    validate(doc)


async def test_document_describes_exactly_the_routes_of_the_app(tmp_path: Path) -> None:
    service = Service(default_config(), tmp_path / "data")
    runtime = await service.start()
    try:
        app = make_app(runtime, Reloader(service, None, tokens_required=False))
        # aiohttp answers HEAD with the GET handler; the document describes the GET. The
        # incidents page (handlers in receiver.web) is HTML for people, not part of the API.
        routes = {
            (route.resource.canonical, route.method.lower())
            for route in app.router.routes()
            if route.resource is not None
            and route.method != "HEAD"
            and not getattr(route.handler, "__module__", "").startswith("receiver.web")
            and not isinstance(route.resource, web.StaticResource)  # the page's assets
        }
        assert ("/", "get") not in routes and ("/api/v1/incidents", "get") in routes
    finally:
        await service.stop()
    documented = {(path, method) for path, item in document()["paths"].items() for method in item}
    assert routes == documented


def test_every_operation_names_its_role_or_none() -> None:
    roles = {"ingest", "viewer", "operator", "admin"}
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            security = operation.get("security")
            assert security is not None, f"{method} {path} states no security"
            assert all(set(req) == {"bearer"} for req in security), (method, path)
            assert all(set(req["bearer"]) <= roles for req in security), (method, path)
            responses = operation["responses"]
            if security:
                assert {"401", "403"} <= set(responses), (method, path)
            assert "400" in responses, f"{method} {path}: unknown query parameters are a 400"


async def test_unknown_query_parameter_is_a_400_naming_it(tmp_path: Path) -> None:
    receiver = await ReceiverProcess(tmp_path, CONFIG).start()
    try:
        status, doc = await receiver.api("GET", "/api/v1/incidents?sate=firing", TOKEN)
        assert status == 400 and doc["field"] == "sate", doc
        assert "'sate'" in doc["error"] and "state" in doc["error"]
        status, doc = await receiver.api("GET", "/api/v1/audit?limit=5&zz=1&aa=2", TOKEN)
        assert status == 400 and doc["field"] == "aa" and "'zz'" in doc["error"], doc
        status, doc = await receiver.api("POST", "/api/v1/incidents/1/ack?force=1", TOKEN)
        assert status == 400 and doc["field"] == "force", doc
        # Scrapes and probes keep node_exporter's leniency: a scrape config's `params:`.
        async with aiohttp.ClientSession() as s:
            async with s.get(receiver.url + "/metrics?collect[]=x") as r:
                assert r.status == 200
            async with s.get(receiver.url + "/-/ready?verbose") as r:
                assert r.status == 200
        status, doc = await receiver.api("GET", "/api/v1/incidents?state=firing&limit=5", TOKEN)
        assert status == 200 and doc["count"] == 0, doc
    finally:
        receiver.stop()
