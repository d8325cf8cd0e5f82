"""Strict conversion of YAML data into config dataclasses with cattrs.

cattrs walks the dataclasses, lists, mappings, unions and literals and gathers every
failure of one pass with its place (detailed validation). The hooks here make it strict
(no `"yes"` as a boolean, no `5` as a string, no `1.5` as an integer), check the
`annotated_types` bounds declared on fields (`Annotated[int, Ge(1)]`, `MinLen(1)`), read
`*_file` secrets relative to the config file, and read value types that define a `parse`
classmethod (`Duration.parse("5m")`) with it. `servicekit.failures` words each failure
as the dotted key, what was expected and the value found.
"""

from __future__ import annotations

import dataclasses
import operator
import re
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union, cast, get_args, get_origin, get_type_hints

import annotated_types
import cattrs
from cattrs._compat import adapted_fields  # cattrs' own field list for a dataclass
from cattrs.cols import list_structure_factory
from cattrs.errors import ClassValidationError
from cattrs.gen import make_dict_structure_fn_from_attrs, override

from servicekit.failures import FAILURES, Expected, number, shown
from servicekit.sections import build_partial, key_name, secret_file_keys
from servicekit.values import Duration, Secret

_FAILED: Any = object()


class StrictConverter:
    """A cattrs converter that accepts only values of the declared types."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self._converter = _converter(base_dir)

    def structure(self, raw: Any, tp: Any) -> Any:
        """`raw` as `tp`; raises cattrs' exception group with every failure."""
        return self._converter.structure(raw, tp)

    def rebuild(self, cls: type, raw: Any) -> Any | None:
        """After a failed `structure`: `raw` as dataclass `cls` keeping what parses, each
        section with failed fields partial (see `servicekit.sections`); None when `raw`
        is no mapping. Its failures were reported by `structure` already."""
        value = self._rebuild(cls, raw)
        return None if value is _FAILED else value

    def _rebuild(self, tp: Any, raw: Any) -> Any:
        try:
            return self.structure(raw, tp)
        except FAILURES:  # reported by the first pass
            pass
        origin, args = get_origin(tp), get_args(tp)
        if origin is Annotated and _has_bounds(tp):
            # Keep what parses of the items; the bounds themselves were reported.
            value = self._rebuild(tp.__origin__, raw)
            return value if value is _FAILED or _bounds(tp)(value) is None else _FAILED
        if dataclasses.is_dataclass(tp) and isinstance(raw, Mapping):
            return self._rebuild_section(cast(type, tp), raw)
        if origin is list and isinstance(raw, list):
            items = [self._rebuild(args[0], v) for v in raw]
            return _FAILED if any(i is _FAILED for i in items) else items
        if origin is dict and isinstance(raw, Mapping):
            values = {k: self._rebuild(args[1], v) for k, v in raw.items()}
            return _FAILED if any(v is _FAILED for v in values.values()) else values
        options = [a for a in args if a is not type(None)]
        if origin in (Union, types.UnionType) and raw is not None and len(options) == 1:
            return self._rebuild(options[0], raw)
        return _FAILED

    def _rebuild_section(self, cls: type, raw: Mapping[str, Any]) -> Any:
        hints = get_type_hints(cls, include_extras=True)
        data, failed_secrets = _with_secret_files(cls, raw, self.base_dir)
        values: dict[str, Any] = {}
        failed = set(failed_secrets)
        for f in dataclasses.fields(cls):
            name = key_name(f.name)
            if not f.init or f.name in failed:
                failed.add(f.name)
            elif name in data:
                value = self._rebuild(hints[f.name], data[name])
                if value is _FAILED:
                    failed.add(f.name)
                else:
                    values[f.name] = value
            elif f.default is not dataclasses.MISSING:
                values[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                values[f.name] = f.default_factory()
            else:
                failed.add(f.name)
        return build_partial(cls, values, failed)


def _with_secret_files(
    cls: type, raw: Mapping[str, Any], base_dir: Path
) -> tuple[dict[str, Any], dict[str, Exception]]:
    """The section with each `<name>_file` replaced by the secret read from that file,
    and the failures by field name (each noted with the `_file` key it came from)."""
    data = dict(raw)
    failed: dict[str, Exception] = {}
    for file_key, name in secret_file_keys(cls).items():
        if file_key not in data:
            continue
        target = key_name(name)
        path = data.pop(file_key)
        error: Exception | None = None
        if target in data:
            error = Expected(f"set either {target} or {file_key}, not both")
            del data[target]
        elif not isinstance(path, str) or not path:
            error = Expected("expected a file path")
        else:
            full = Path(path) if Path(path).is_absolute() else base_dir / path
            try:
                data[target] = Secret(full.read_text(encoding="utf-8").strip())
            except OSError as exc:
                error = Expected(f"cannot read secret file {path}: {exc.strerror or exc}")
        if error is not None:
            error.add_note(cattrs.AttributeValidationNote(file_key, file_key, str))
            failed[name] = error
    return data, failed


def _section_hook(converter: cattrs.Converter, base_dir: Path) -> Callable[[type], Any]:
    """The structure function for one config dataclass: cattrs' own, plus secret files,
    keyword-named fields and a clear message when the section is not a mapping."""

    def factory(cls: type) -> Callable[[Any, type], Any]:
        hints = get_type_hints(cls, include_extras=True)
        # cattrs resolves string annotations without `Annotated` extras, which would drop
        # the declared bounds: it is given the fields with their types resolved here.
        fields = [a.evolve(type=hints[a.name]) for a in adapted_fields(cls)]
        # A bounded field's message names it: `at least one channel`, `a non-empty name`.
        # (Any: mypy cannot tell these field overrides from cattrs' own keyword arguments.)
        named: dict[str, Any] = {
            a.name: override(struct_hook=_bounded(converter, a.type, key_name(a.name)))
            for a in fields
            if _has_bounds(a.type)
        }
        renamed = {key_name(f.name): f.name for f in dataclasses.fields(cls) if f.init}
        generated: Callable[[Mapping[str, Any], Any], Any] = make_dict_structure_fn_from_attrs(
            fields, cls, converter, **named
        )

        def structure(raw: Any, _: type) -> Any:
            if not isinstance(raw, Mapping):
                raise Expected(f"expected a mapping, got {shown(raw)}")
            data, failed = _with_secret_files(cls, raw, base_dir)
            errors = list(failed.values())
            for name in failed:
                # Stands in for the secret that could not be read, so it is not also
                # reported as missing; the section still fails with the real reason.
                data[key_name(name)] = Secret("")
            try:
                obj = generated({renamed.get(k, k): v for k, v in data.items()}, cls)
            except ClassValidationError as exc:
                raise ClassValidationError(exc.message, [*exc.exceptions, *errors], cls) from None
            if errors:
                raise ClassValidationError(f"While structuring {cls.__name__}", errors, cls)
            return obj

        return structure

    return factory


def _converter(base_dir: Path) -> cattrs.Converter:
    """A strict converter: a value must already have the type its field declares."""
    c = cattrs.Converter(forbid_extra_keys=True)
    plain: dict[Any, Callable[[Any, Any], Any]] = {
        str: _strict(str, "a string"),
        bool: _strict(bool, "true or false"),
        int: _strict(int, "an integer"),
        float: lambda v, _: float(_strict(float, "a number")(v, float)),
        Path: lambda v, _: Path(_strict(str, "a path")(v, Path)),
        Secret: lambda v, _: Secret(_strict(str, "a string")(v, Secret)),
    }

    def scalar(value: Any, tp: Any) -> Any:
        # These hooks also match subclasses: one with its own `parse` (Duration,
        # MatcherSet) is read with it, not taken for a plain string or number.
        if _has_parse(tp):
            return _parsed(value, tp)
        return next(plain[base] for base in tp.__mro__ if base in plain)(value, tp)

    for tp in plain:
        c.register_structure_hook(tp, scalar)
    c.register_structure_hook_factory(_is_list, lambda t: _list(c, t))
    c.register_structure_hook_factory(_is_dict, lambda t: _mapping(c, t))
    c.register_structure_hook_func(_is_regex, _regex)
    c.register_structure_hook_func(_is_literal, _literal)
    c.register_structure_hook_factory(_has_bounds, lambda t: _bounded(c, t))
    c.register_structure_hook_factory(dataclasses.is_dataclass, _section_hook(c, base_dir))
    c.register_structure_hook_func(_has_parse, _parsed)
    return c


_ACCEPTED = {str: (str,), bool: (bool,), int: (int,), float: (int, float)}


def _strict(tp: type, what: str) -> Callable[[Any, Any], Any]:
    allowed = _ACCEPTED[tp]

    def check(value: Any, _: Any) -> Any:
        # bool is an int subclass: `true` is no integer and no number here.
        if not isinstance(value, allowed) or (tp is not bool and isinstance(value, bool)):
            raise Expected(f"expected {what}, got {shown(value)}")
        return value

    return check


def _is_list(tp: Any) -> bool:
    return get_origin(tp) is list


def _is_dict(tp: Any) -> bool:
    return get_origin(tp) is dict


def _list(converter: cattrs.Converter, tp: Any) -> Callable[[Any, Any], Any]:
    # cattrs takes any iterable for a list, a string too: only a YAML list is one here.
    items = list_structure_factory(tp, converter)

    def structure(value: Any, _: Any) -> Any:
        if value is None:
            return []
        if not isinstance(value, list):
            raise Expected(f"expected a list, got {shown(value)}")
        return items(value, tp)

    return structure


def _mapping(converter: cattrs.Converter, tp: Any) -> Callable[[Any, Any], Any]:
    entries = converter.gen_structure_mapping(tp)

    def structure(value: Any, _: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise Expected(f"expected a mapping, got {shown(value)}")
        return entries(value, tp)

    return structure


def _has_parse(tp: Any) -> bool:
    return isinstance(tp, type) and isinstance(tp.__dict__.get("parse"), classmethod)


def _parsed(value: Any, tp: Any) -> Any:
    try:
        return tp.parse(value)
    except ValueError as exc:
        raise Expected(str(exc)) from None


def _is_regex(tp: Any) -> bool:
    return tp is re.Pattern or get_origin(tp) is re.Pattern


def _is_literal(tp: Any) -> bool:
    return get_origin(tp) is Literal


def _regex(value: Any, _: Any) -> re.Pattern[str]:
    if not isinstance(value, str):
        raise Expected(f"expected a regular expression string, got {shown(value)}")
    try:
        return re.compile(value)
    except re.error as exc:
        raise Expected(f"invalid regular expression {value!r}: {exc}") from None


def _literal(value: Any, tp: Any) -> Any:
    allowed = get_args(tp)
    if not any(value == a and type(value) is type(a) for a in allowed):
        choices = ", ".join(repr(a) for a in allowed)
        raise Expected(f"expected one of {choices}, got {value!r}")
    return value


# Each bound annotated_types can declare on a number: the attribute holding its limit,
# the comparison the value must pass, and how the message words it.
_LIMITS: dict[type, tuple[str, Callable[[Any, Any], bool], str]] = {
    annotated_types.Ge: ("ge", operator.ge, "at least"),
    annotated_types.Gt: ("gt", operator.gt, "greater than"),
    annotated_types.Le: ("le", operator.le, "at most"),
    annotated_types.Lt: ("lt", operator.lt, "less than"),
}


def _metadata(tp: Any) -> list[Any]:
    """The `annotated_types` metadata of `Annotated` type `tp`, grouped ones (`Interval`,
    `Len`) flattened into the bounds they stand for."""
    found: list[Any] = []
    for meta in tp.__metadata__:
        found.extend(meta if isinstance(meta, annotated_types.GroupedMetadata) else [meta])
    return [m for m in found if isinstance(m, annotated_types.BaseMetadata)]


def _has_bounds(tp: Any) -> bool:
    return get_origin(tp) is Annotated and bool(_metadata(tp))


def _bounds(tp: Any, noun: str | None = None) -> Callable[[Any], str | None]:
    """For `Annotated` type `tp`: a function giving the message for a value outside its
    `annotated_types` bounds, or None when the value is within them. `noun` names what a
    length bound counts (the field: `at least one channel`, `a non-empty name`).

    Raises TypeError for metadata it cannot check, rather than silently ignoring it."""
    base = tp.__origin__
    limits: list[tuple[type, Any]] = []
    min_len: int | None = None
    for meta in _metadata(tp):
        if type(meta) in _LIMITS:
            limits.append((type(meta), getattr(meta, _LIMITS[type(meta)][0])))
        elif isinstance(meta, annotated_types.MinLen):
            min_len = meta.min_length
        else:
            raise TypeError(f"{tp}: {meta!r} is not a bound servicekit.conversion checks")
    if min_len is not None and limits:
        raise TypeError(f"{tp}: a length bound and a number bound on one type")
    if min_len is not None:
        return _min_len(base, min_len, noun)
    limits.sort(key=lambda kv: list(_LIMITS).index(kv[0]))
    if [kind for kind, _ in limits] == [annotated_types.Ge, annotated_types.Le]:
        expected = f"from {number(limits[0][1])} to {number(limits[1][1])}"
    else:
        expected = " and ".join(f"{_LIMITS[k][2]} {number(limit)}" for k, limit in limits)
    what = {Duration: "a duration", int: "an integer"}.get(base, "a number")

    def outside(value: Any) -> str | None:
        if all(_LIMITS[kind][1](value, limit) for kind, limit in limits):
            return None
        found = f"{number(value)}s" if base is Duration else number(value)
        return f"expected {what} {expected}, got {found}"

    return outside


def _min_len(base: Any, min_len: int, noun: str | None) -> Callable[[Any], str | None]:
    if base is str:
        noun = noun or "string"
        message = (
            f"expected a non-empty {noun}"
            if min_len == 1
            else f"expected a {noun} of at least {min_len} characters"
        )
    else:
        item = noun.removesuffix("s") if noun else "item"
        many = f"one {item}" if min_len == 1 else f"{min_len} {item}s"
        message = f"expected at least {many}"
    return lambda value: message if len(value) < min_len else None


def _bounded(
    converter: cattrs.Converter, tp: Any, noun: str | None = None
) -> Callable[[Any, Any], Any]:
    """Structure as the annotated type, then check its `annotated_types` bounds."""
    base = tp.__origin__
    outside = _bounds(tp, noun)

    def structure(value: Any, _: Any) -> Any:
        result = converter.structure(value, base)
        message = outside(result)
        if message is not None:
            raise Expected(message)
        return result

    return structure
