"""The page's pure helpers: which URLs become links, the route prefix, the view's query."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from multidict import MultiDict

from receiver.http.errors import JSONHTTPError
from receiver.web.flags import route_prefix
from receiver.web.links import silence_url
from receiver.web.listing import View, parse_view
from receiver.web.render import link


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://runbooks.example/disk", "https://runbooks.example/disk"),
        (" http://grafana.example/d/x ", "http://grafana.example/d/x"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        (" javascript:alert(1)", None),
        ("java\tscript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("//evil.example/x", None),
        ("/relative/path", None),
        ("http:///no-host", None),
        ("http://[::1", None),
        (42, None),
    ],
)
def test_only_absolute_http_urls_become_links(url: object, expected: str | None) -> None:
    assert link(url) == expected


@pytest.mark.parametrize(
    ("external", "prefix", "expected"),
    [
        ("", "", ""),
        ("http://a.example/", "", ""),
        ("https://a.example/tocsin/", "", "/tocsin"),
        ("https://a.example/tocsin/", "/other/", "/other"),
        ("", "ops//tocsin", "/ops/tocsin"),
    ],
)
def test_route_prefix(external: str, prefix: str, expected: str) -> None:
    assert route_prefix(external, prefix) == expected


def test_silence_url_quotes_labels_for_alertmanager() -> None:
    url = silence_url("http://am.example/", {"job": 'a"b', "severity": "critical"})
    assert url == (
        "http://am.example/#/silences/new?filter="
        "%7Bjob%3D%22a%5C%22b%22%2Cseverity%3D%22critical%22%7D"
    )
    assert silence_url("javascript:alert(1)", {"a": "b"}) is None


def test_a_view_round_trips_through_its_query() -> None:
    view = parse_view(
        MultiDict(
            state="acknowledged", match='team="db"', q="disk", group_by="team", sort="severity"
        )
    )
    again = parse_view(MultiDict(parse_qsl(view.query())))
    assert again == view
    assert parse_view(MultiDict()) == View()


def test_a_bad_matcher_names_the_field() -> None:
    with pytest.raises(JSONHTTPError) as err:
        parse_view(MultiDict(match='team="db'))
    assert '"field": "match"' in err.value.text


def test_one_match_field_may_hold_several_matchers() -> None:
    view = parse_view(MultiDict([("match", '{team="db",severity=~"critical|error"}')]))
    assert [(m.name, m.op) for m in view.matchers] == [("team", "="), ("severity", "=~")]
    joined = parse_view(MultiDict([("match", 'team="db"'), ("match", "a!=b")]))
    assert parse_view(MultiDict([("match", ",".join(joined.match))])).matchers == (joined.matchers)
