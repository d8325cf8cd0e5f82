"""cattrs' failures in words: the dotted key, what was expected and the value found."""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import cattrs
from cattrs.errors import (
    BaseValidationError,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)

from servicekit.sections import key_name, secret_file_keys
from servicekit.values import Duration, Secret


class Expected(ValueError):
    """A value of the wrong type or out of range; the message says what was expected."""


# What structuring raises for bad data: cattrs' groups (which hold every failure of one
# pass, each worded by `problems`), extra keys, our hooks' ValueErrors, missing keys.
FAILURES: tuple[type[Exception], ...] = (
    BaseValidationError,
    ForbiddenExtraKeysError,
    ValueError,
    KeyError,
)


def problems(exc: BaseException, key: str, tp: Any = None) -> Iterator[tuple[str, str]]:
    """(dotted key, message) for every failure in cattrs' exception tree; `tp` is the
    type expected at `key`, when a note says it."""
    if isinstance(exc, ClassValidationError | IterableValidationError):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            if isinstance(note, cattrs.AttributeValidationNote):
                name = key_name(note.name)
                yield from problems(sub, f"{key}.{name}" if key else name, note.type)
                continue
            if get_origin(exc.cl) is list:
                part = f"{key}[{note.index}]"
            else:
                part = f"{key}.{note.index}" if key else str(note.index)
            yield from problems(sub, part, note.type)
        for sub in without:
            yield from problems(sub, key)
    elif isinstance(exc, ForbiddenExtraKeysError):
        fields = [key_name(f.name) for f in dataclasses.fields(exc.cl) if f.init]
        allowed = ", ".join(sorted([*fields, *secret_file_keys(exc.cl)]))
        for name in sorted(exc.extra_fields):
            yield (f"{key}.{name}" if key else name, f"unknown key (expected one of: {allowed})")
    elif isinstance(exc, KeyError):
        yield key, "required key is missing" + (f" ({describe(tp)})" if tp is not None else "")
    elif isinstance(exc, Expected):
        yield key, str(exc)
    elif isinstance(exc, ValueError):
        yield key, f"invalid value: {exc}"
    else:
        # Anything else (a TypeError, cattrs finding no hook) is a bug, not a config problem.
        raise exc


_NAMES: dict[Any, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    Duration: "a duration",
    Secret: "a secret string",
    Path: "a path",
}


def describe(tp: Any) -> str:
    """What a value of type `tp` is, in words: `a string`, `a list of an integer`."""
    origin = get_origin(tp)
    if origin is Annotated:
        if tp.__origin__ is str and any(
            isinstance(m, annotated_types.MinLen) and m.min_length == 1 for m in tp.__metadata__
        ):
            return "a non-empty string"
        return describe(tp.__origin__)
    if origin in (Union, types.UnionType):
        return " or ".join(describe(a) for a in get_args(tp) if a is not type(None))
    if origin is list:
        return f"a list of {describe(get_args(tp)[0])}"
    if origin is dict or dataclasses.is_dataclass(tp):
        return "a mapping"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if tp is re.Pattern or get_origin(tp) is re.Pattern:
        return "a regular expression"
    if tp in _NAMES:
        return _NAMES[tp]
    return getattr(tp, "__name__", str(tp))


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def shown(value: Any) -> str:
    """The value found, in words: `a string ('x')`, `a number (5)`, `a list`."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})" if len(value) < 60 else "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__
