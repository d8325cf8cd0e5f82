"""Route and API matchers parse exactly as Alertmanager does: compared with `amtool`."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from receiver.matchers import MatcherError, MatcherSet, parse_matcher
from tests.conftest import require_binary

ACCEPTED = [
    'severity="critical"',
    "severity=critical",
    'severity!="critical"',
    'team=~"db|infra"',
    "team!~db",
    'a=""',
    "a=",
    'a:b="x"',
    '_x="y"',
    r'a="x\"y"',
    r'a="x\\y"',
    r'a="x\ny"',
    r'a="x\qy"',
    ' a  =  "x" ',
    '{a="1",b="2"}',
    'a="1",b=~"x.*"',
    'a="x,y"',
    'a="1",',
    "a=b c",
    "a==b",
    'a=~"a)|(b"',
    "a=x\\",
    "",  # no matchers at all: matches everything
]
REJECTED = [
    'severity=="critical"',
    'team="db',
    '1a="x"',
    'a-b="x"',
    'a=~"("',
    'a="x"y"',
    'a=x"',
    "just text",
    '="x"',
    'a="1",,b="2"',
    'a=~"[z-a]"',
    'a~="x"',
    'a="x\\"',
]


def _amtool_accepts(amtool: str, tmp_path: Path, index: int, matcher: str) -> bool:
    config = {
        "route": {"receiver": "r", "routes": [{"receiver": "r", "matchers": [matcher]}]},
        "receivers": [{"name": "r"}],
    }
    path = tmp_path / f"am{index}.yml"
    path.write_text(json.dumps(config))  # JSON is YAML, and quotes every string exactly
    out = subprocess.run(
        [amtool, "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return out.returncode == 0


def _we_accept(matcher: str) -> bool:
    try:
        MatcherSet.parse(matcher)
    except MatcherError:
        return False
    return True


def test_accept_and_reject_like_amtool(tmp_path: Path) -> None:
    binary = require_binary("amtool")
    cases = ACCEPTED + REJECTED
    with ThreadPoolExecutor(max_workers=2) as pool:
        verdicts = list(
            pool.map(lambda ic: _amtool_accepts(binary, tmp_path, *ic), enumerate(cases))
        )
    amtool = dict(zip(cases, verdicts, strict=True))
    ours = {m: _we_accept(m) for m in cases}
    assert ours == amtool
    assert {m for m, ok in amtool.items() if ok} == set(ACCEPTED)  # the lists say what we test


def test_values_are_unescaped_as_alertmanager_does() -> None:
    def value(text: str) -> str:
        return parse_matcher(text).value

    assert value(r'a="x\"y"') == 'x"y'
    assert value(r'a="x\\y"') == "x\\y"
    assert value(r'a="x\ny"') == "x\ny"
    assert value(r'a="x\qy"') == "x\\qy"  # unknown escapes stay literal
    assert value("a=b c") == "b c"
    assert value(' a  =  "x" ') == "x"
    route_matchers = [MatcherSet.parse(text) for text in ['{a="1",b=~"x.*"}', 'c!="p,q"']]
    assert [str(m) for entry in route_matchers for m in entry.matchers] == [
        'a="1"',
        'b=~"x.*"',
        'c!="p,q"',
    ]


def test_regexes_are_anchored_and_round_trip() -> None:
    m = parse_matcher('team=~"db|infra"')
    assert m.matches({"team": "infra"}) and not m.matches({"team": "infrastructure"})
    assert not parse_matcher("team=~db").matches({"team": "db\n"})
    tricky = parse_matcher(r'a="q\"\\x\ny"')
    assert parse_matcher(str(tricky)) == tricky


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('severity=="critical"', "unescaped double quote"),
        ('team="db', "missing closing double quote"),
        ('a=~"("', "invalid regular expression"),
        ('a-b="x"', "expected a matcher such as"),
        ('a="1",b="2"', "expected one matcher"),
    ],
)
def test_one_matcher_problems_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(MatcherError, match=message):
        parse_matcher(text)


def test_matchers() -> None:
    assert parse_matcher('severity="critical"').matches({"severity": "critical"})
    assert not parse_matcher('severity!="critical"').matches({"severity": "critical"})
    assert parse_matcher('team=~"db|infra"').matches({"team": "infra"})
    assert not parse_matcher('team=~"db|infra"').matches({"team": "infrastructure"})
    assert parse_matcher('team!~"db"').matches({})
    with pytest.raises(ValueError, match="regular expression"):
        parse_matcher('a=~"("')
    with pytest.raises(ValueError, match="expected a matcher"):
        parse_matcher("just text")
