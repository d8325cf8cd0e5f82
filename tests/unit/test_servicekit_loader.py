"""The shared config loader: duplicate YAML keys, declared bounds, every problem at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import pytest
from annotated_types import Ge, Gt, Interval, MinLen, MultipleOf

from servicekit.loader import Loader
from servicekit.problems import ConfigError
from servicekit.sections import available, is_partial
from servicekit.values import Duration
from servicekit.yamlfile import read_yaml

ROOT = Path(__file__).resolve().parents[2]


def test_duplicate_keys_name_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text(
        "retention: 30d\nweb:\n  port: 1\n  port: 2\nretention: 1s\n"
        "items:\n  - {a: 1, a: 2}\nanchor: &x {k: 1}\nmerged:\n  <<: *x\n  <<: *x\n"
    )
    data, problems = read_yaml(path)
    found = {(p.key, p.message.split(":")[0]) for p in problems}
    assert found == {("web.port", "line 4"), ("retention", "line 5"), ("items[0].a", "line 7")}
    assert all(p.file == str(path) for p in problems)
    assert "first set on line 1" in next(str(p) for p in problems if p.key == "retention")
    assert data["retention"] == "1s"  # still parsed, so later checks run too


def test_recursive_aliases_are_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text("a: &x [1, *x]\n")
    data, problems = read_yaml(path)
    assert data is None
    assert [p.message for p in problems] == ["invalid YAML: an alias refers to its own parent"]


@dataclass
class Item:
    name: str
    size: Annotated[int, Ge(1)] = 1
    codes: list[Annotated[int, Interval(ge=100, le=599)]] = field(default_factory=list)
    wait: Annotated[Duration, Gt(0)] = Duration(1)

    def validate(self) -> list[tuple[str, str]]:
        return [("name", "expected lower case")] if self.name != self.name.lower() else []


@dataclass
class Top:
    items: list[Item] = field(default_factory=list)
    limit: Annotated[int, Interval(ge=1, le=10)] = 5
    kind: str = "a"

    def validate(self) -> list[tuple[str, str]]:
        names = [i.name for i in self.items]
        problems = [
            ("items", f"duplicate name {n!r}") for n in sorted(set(names)) if names.count(n) > 1
        ]
        if self.kind == "b" and self.limit > 3:
            problems.append(("limit", "expected at most 3 for kind b"))
        return problems


def test_bounds_are_checked_on_fields_and_list_items() -> None:
    loader = Loader("f.yml")
    loader.load(Item, {"name": "x", "size": 0, "codes": [200, 999, 99], "wait": "0s"}, "item")
    got = {p.key: p.message for p in loader.problems}
    assert got == {
        "item.size": "expected an integer at least 1, got 0",
        "item.codes[1]": "expected an integer from 100 to 599, got 999",
        "item.codes[2]": "expected an integer from 100 to 599, got 99",
        "item.wait": "expected a duration greater than 0, got 0s",
    }


def test_parent_validate_runs_although_an_item_failed() -> None:
    loader = Loader("f.yml")
    data = {
        "items": [{"name": "a", "size": "big"}, {"name": "a"}, {"name": "B", "wait": "soon"}],
        "limit": 0,
    }
    assert loader.load(Top, data) is None
    keys = sorted(p.key for p in loader.problems)
    # size and wait failed; the duplicate name (parent) and B's own validate (it reads only
    # `name`) still show up in the same pass.
    assert keys == ["items", "items[0].size", "items[2].name", "items[2].wait", "limit"]


def test_validate_is_skipped_when_it_reads_a_failed_field() -> None:
    loader = Loader("f.yml")
    loader.load(Top, {"kind": [], "limit": 4})
    loader2 = Loader("f.yml")
    loader2.load(Top, {"kind": "b", "limit": "many"})
    # No "expected at most 3" from a value that did not parse, and no crash.
    assert [p.key for p in loader.problems] == ["kind"]
    assert [p.key for p in loader2.problems] == ["limit"]


def test_partial_objects_expose_only_what_parsed() -> None:
    loader = Loader("f.yml")
    top = loader.load_partial(Top, {"items": [{"name": "a", "size": "x"}], "kind": []})
    assert is_partial(top)
    assert available(top, "kind") is None
    assert available(top, "limit") == 5
    item = available(top, "items")[0]
    assert is_partial(item) and item.name == "a" and available(item, "size") is None


def test_read_reports_duplicates_with_other_problems(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text("limit: 1\nlimit: 99\nkind: a\n")
    loader, data = Loader.read(path)
    assert loader.load(Top, data) is None
    assert {p.key for p in loader.problems} == {"limit"}
    assert len(loader.problems) == 2  # duplicate key, and 99 out of range


def test_read_gives_up_on_a_file_that_does_not_parse(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text("limit: [1\n")
    with pytest.raises(ConfigError) as err:
        Loader.read(path)
    assert [p.file for p in err.value.problems] == [str(path)]
    assert err.value.problems[0].message.startswith("invalid YAML")


@dataclass
class Strict:
    flag: bool = False
    text: str = ""
    count: int = 0
    names: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)


def test_types_are_strict() -> None:
    loader = Loader("f.yml")
    data = {"flag": "yes", "text": 5, "count": 1.5, "names": "abc", "labels": {"a": 1}}
    assert loader.load(Strict, data) is None
    assert {p.key: p.message for p in loader.problems} == {
        "flag": "expected true or false, got a string ('yes')",
        "text": "expected a string, got a number (5)",
        "count": "expected an integer, got a number (1.5)",
        "names": "expected a list, got a string ('abc')",
        "labels.a": "expected a string, got a number (1)",
    }


@dataclass
class Required:
    name: str
    size: Annotated[int, Ge(1)]
    tags: list[str]
    wait: Duration
    labels: dict[str, str]


def test_a_missing_key_says_what_was_expected() -> None:
    loader = Loader("f.yml")
    assert loader.load(Required, {}) is None
    assert {p.key: p.message for p in loader.problems} == {
        "name": "required key is missing (a string)",
        "size": "required key is missing (an integer)",
        "tags": "required key is missing (a list of a string)",
        "wait": "required key is missing (a duration)",
        "labels": "required key is missing (a mapping)",
    }


class Buggy(str):
    @classmethod
    def parse(cls, value: object) -> Buggy:
        raise TypeError("a bug, not a config problem")


@dataclass
class WithBuggy:
    value: Buggy


def test_a_bug_in_a_hook_is_raised_not_reported_as_a_config_problem() -> None:
    with pytest.raises(TypeError, match="a bug"):
        Loader("f.yml").load(WithBuggy, {"value": "x"})


@dataclass
class NonEmpty:
    name: Annotated[str, MinLen(1)] = "x"
    channels: Annotated[list[str], MinLen(1)] = field(default_factory=lambda: ["a"])


def test_length_bounds_are_worded_with_the_field() -> None:
    loader = Loader("f.yml")
    assert loader.load(NonEmpty, {"name": "", "channels": []}) is None
    assert {p.key: p.message for p in loader.problems} == {
        "name": "expected a non-empty name",
        "channels": "expected at least one channel",
    }


@dataclass
class Unchecked:
    step: Annotated[int, MultipleOf(5)] = 5


def test_metadata_the_converter_cannot_check_is_refused() -> None:
    with pytest.raises(TypeError, match="MultipleOf"):
        Loader("f.yml").load(Unchecked, {"step": 5})
