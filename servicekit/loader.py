"""Validate plain YAML data into typed dataclasses, collecting every problem at once.

A problem names the file, the dotted key and what was expected, so `--check-config`
can print all of them in one go instead of stopping at the first.

Every problem shows in one pass: a section whose fields partly failed is still built
as a *partial* object (see `is_partial`) so its own `validate()` and its parent's run
too; reading a field that failed from a partial object aborts only that `validate()`,
so no check ever runs on a value that was not parsed. Numeric ranges are declared on
the field (`field(default=1, metadata=bounds(ge=1))`) and checked as the value is read.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

from servicekit.problems import ConfigError, Problem
from servicekit.values import Duration, Secret
from servicekit.yamlfile import read_yaml

T = TypeVar("T")


@dataclass(frozen=True)
class Bounds:
    """An inclusive (`ge`, `le`) or exclusive (`gt`, `lt`) range for a number or duration."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def check(self, value: float) -> str | None:
        """What was expected when `value` is out of range, else None."""
        ok = (
            (self.ge is None or value >= self.ge)
            and (self.gt is None or value > self.gt)
            and (self.le is None or value <= self.le)
            and (self.lt is None or value < self.lt)
        )
        return None if ok else self.describe()

    def describe(self) -> str:
        """The range in words, e.g. `at least 1` or `from 100 to 599`."""
        if self.ge is not None and self.le is not None and self.gt is None and self.lt is None:
            return f"from {_number(self.ge)} to {_number(self.le)}"
        words = (
            ("at least", self.ge),
            ("greater than", self.gt),
            ("at most", self.le),
            ("less than", self.lt),
        )
        return " and ".join(f"{w} {_number(limit)}" for w, limit in words if limit is not None)


def bounds(
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> dict[str, Bounds]:
    """Field metadata declaring a range; for a list field it applies to every item."""
    return {"bounds": Bounds(ge=ge, gt=gt, le=le, lt=lt)}


class Unavailable(BaseException):
    """Raised when `validate()` reads a field of a partial object that failed to parse.

    A BaseException so that a validate() catching `Exception` cannot swallow it.
    """


_PARTIAL_ATTR = "_servicekit_unavailable"
_PARTIAL_CLASSES: dict[type, type] = {}


def is_partial(obj: Any) -> bool:
    """True for an object built from a section in which some fields failed."""
    return type(obj) in _PARTIAL_CLASSES.values()


def available(obj: Any, name: str) -> Any:
    """`obj.name`, or None when `obj` is partial and that field failed to parse."""
    try:
        return getattr(obj, name)
    except Unavailable:
        return None


def _partial_class(cls: type) -> type:
    if cls not in _PARTIAL_CLASSES:

        def __getattribute__(self: Any, name: str) -> Any:
            missing = object.__getattribute__(self, "__dict__").get(_PARTIAL_ATTR, ())
            if name in missing:
                raise Unavailable(name)
            return object.__getattribute__(self, name)

        _PARTIAL_CLASSES[cls] = type(
            f"Partial{cls.__name__}",
            (cls,),
            {"__getattribute__": __getattribute__, "__module__": cls.__module__},
        )
    return _PARTIAL_CLASSES[cls]


def _build_partial(cls: type, values: dict[str, Any], missing: set[str]) -> Any:
    obj: Any = object.__new__(_partial_class(cls))
    for name, value in values.items():
        object.__setattr__(obj, name, value)
    object.__setattr__(obj, _PARTIAL_ATTR, frozenset(missing))
    return obj


class Loader:
    """Turns plain data into a dataclass tree, recording problems instead of raising."""

    def __init__(self, file: str, base_dir: Path | None = None) -> None:
        self.file = file
        self.base_dir = base_dir or (Path(file).parent if file else Path.cwd())
        self.problems: list[Problem] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.file, key, message))

    def load(self, cls: type[T], data: Any, key: str = "") -> T | None:
        """Validate `data` into dataclass `cls`; returns None when it could not be built."""
        obj = self.load_partial(cls, data, key)
        return None if obj is None or is_partial(obj) else obj

    def load_partial(self, cls: type[T], data: Any, key: str = "") -> T | None:
        """Like `load`, but a section with failed fields comes back as a partial object
        (see `is_partial`), so checks that span sections can still use what did parse.
        Returns None only when `data` is not a mapping at all."""
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.problem(key, f"expected a mapping, got {_kind(data)}")
            return None
        hints = get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        secret_files = {f"{n}_file": n for n, t in hints.items() if _is_secret(t)}
        values: dict[str, Any] = {}
        failed: set[str] = set()
        ok = True
        for raw_key, raw in data.items():
            name = str(raw_key)
            sub = f"{key}.{name}" if key else name
            if name in secret_files:
                target = secret_files[name]
                if target in data:
                    self.problem(sub, f"set either {target} or {name}, not both")
                    ok = False
                    failed.add(target)
                    continue
                secret = self._read_secret_file(raw, sub)
                if secret is None:
                    ok = False
                    failed.add(target)
                else:
                    values[target] = secret
                continue
            if name not in fields or not fields[name].init:
                allowed = ", ".join(sorted([*fields, *secret_files]))
                self.problem(sub, f"unknown key (expected one of: {allowed})")
                ok = False
                continue
            before = len(self.problems)
            value = self.convert(hints[name], raw, sub)
            if len(self.problems) > before:
                ok = False
                if not _readable(value):
                    failed.add(name)
                    continue
            limits = fields[name].metadata.get("bounds")
            if limits is not None and not self._within(limits, value, sub):
                ok = False
                failed.add(name)
                continue
            values[name] = value
        for name, f in fields.items():
            if name in values or name in failed:
                continue
            if not f.init:
                failed.add(name)
                continue
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                sub = f"{key}.{name}" if key else name
                if not (name in data or f"{name}_file" in data):
                    self.problem(sub, f"required key is missing ({_describe(hints[name])})")
                ok = False
                failed.add(name)
        obj: Any
        if ok:
            try:
                obj = cls(**values)
            except (ValueError, TypeError) as exc:
                self.problem(key, str(exc))
                return _build_partial(cls, {}, set(fields))  # type: ignore[no-any-return]
        else:
            defaults = {
                n: _default(f)
                for n, f in fields.items()
                if n not in values and n not in failed and f.init
            }
            obj = _build_partial(cls, {**defaults, **values}, failed)
        self._validate(obj, key)
        return obj  # type: ignore[no-any-return]

    def _validate(self, obj: Any, key: str) -> None:
        """Run `obj.validate()`; on a partial object it is skipped if it reads a failed field."""
        validate = getattr(obj, "validate", None)
        if not callable(validate):
            return
        try:
            found = list(validate())
        except Unavailable:
            return
        for sub_key, message in found:
            self.problem(f"{key}.{sub_key}" if key and sub_key else key or sub_key, message)

    def _within(self, limits: Bounds, value: Any, key: str) -> bool:
        """Check a number (or every number of a list) against its declared bounds."""
        if isinstance(value, list):
            results = [self._within(limits, item, f"{key}[{i}]") for i, item in enumerate(value)]
            return all(results)
        if isinstance(value, int | float) and not isinstance(value, bool):
            expected = limits.check(value)
            if expected is not None:
                shown = f"{_number(value)}s" if isinstance(value, Duration) else _number(value)
                what = (
                    "a duration"
                    if isinstance(value, Duration)
                    else "an integer"
                    if isinstance(value, int)
                    else "a number"
                )
                self.problem(key, f"expected {what} {expected}, got {shown}")
                return False
        return True

    def _read_secret_file(self, raw: Any, key: str) -> Secret | None:
        if not isinstance(raw, str) or not raw:
            self.problem(key, "expected a file path")
            return None
        path = Path(raw)
        if not path.is_absolute():
            path = self.base_dir / path
        try:
            return Secret(path.read_text(encoding="utf-8").strip())
        except OSError as exc:
            self.problem(key, f"cannot read secret file {raw}: {exc.strerror or exc}")
            return None

    def convert(self, tp: Any, raw: Any, key: str) -> Any:
        """Convert one value to type `tp`, recording a problem on mismatch."""
        origin = get_origin(tp)
        if origin is typing.Union or origin is types.UnionType:
            args = [a for a in get_args(tp) if a is not type(None)]
            if raw is None:
                return None
            if len(args) == 1:
                return self.convert(args[0], raw, key)
            for arg in args:
                trial = Loader(self.file, self.base_dir)
                value = trial.convert(arg, raw, key)
                if not trial.problems:
                    return value
            self.problem(key, f"expected {_describe(tp)}, got {_kind(raw)}")
            return None
        if origin is Literal:
            allowed = get_args(tp)
            if raw not in allowed:
                choices = ", ".join(repr(a) for a in allowed)
                self.problem(key, f"expected one of {choices}, got {raw!r}")
                return None
            return raw
        if origin is list:
            (item,) = get_args(tp)
            if raw is None:
                return []
            if not isinstance(raw, list):
                self.problem(key, f"expected a list, got {_kind(raw)}")
                return None
            return [self.convert(item, v, f"{key}[{i}]") for i, v in enumerate(raw)]
        if origin is dict:
            kt, vt = get_args(tp)
            if raw is None:
                return {}
            if not isinstance(raw, dict):
                self.problem(key, f"expected a mapping, got {_kind(raw)}")
                return None
            return {
                self.convert(kt, k, key): self.convert(vt, v, f"{key}.{k}") for k, v in raw.items()
            }
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            return self.load_partial(tp, raw, key)
        if tp is Any:
            return raw
        if tp is Duration:
            try:
                return Duration.parse(raw)
            except ValueError as exc:
                self.problem(key, str(exc))
                return None
        if tp is Secret:
            if not isinstance(raw, str):
                self.problem(key, f"expected a string, got {_kind(raw)}")
                return None
            return Secret(raw)
        if tp is bool:
            if not isinstance(raw, bool):
                self.problem(key, f"expected true or false, got {_kind(raw)}")
                return None
            return raw
        if tp is int:
            if isinstance(raw, bool) or not isinstance(raw, int):
                self.problem(key, f"expected an integer, got {_kind(raw)}")
                return None
            return raw
        if tp is float:
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                self.problem(key, f"expected a number, got {_kind(raw)}")
                return None
            return float(raw)
        if tp is str:
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                return str(raw)
            if not isinstance(raw, str):
                self.problem(key, f"expected a string, got {_kind(raw)}")
                return None
            return raw
        if tp is re.Pattern or get_origin(tp) is re.Pattern:
            if not isinstance(raw, str):
                self.problem(key, f"expected a regular expression string, got {_kind(raw)}")
                return None
            try:
                return re.compile(raw)
            except re.error as exc:
                self.problem(key, f"invalid regular expression: {exc}")
                return None
        if tp is Path:
            if not isinstance(raw, str):
                self.problem(key, f"expected a path, got {_kind(raw)}")
                return None
            return Path(raw)
        raise TypeError(f"config loader: unsupported type {tp!r} at {key}")


def load_file(cls: type[T], path: str | Path) -> T:
    """Read and validate a YAML file into `cls`; raises ConfigError with every problem."""
    data, problems = read_yaml(path)
    loader = Loader(str(path))
    loader.problems.extend(problems)
    obj = loader.load(cls, data) if data is not None else None
    if loader.problems or obj is None:
        raise ConfigError(loader.problems or [Problem(str(path), "", "invalid configuration")])
    return obj


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def _readable(value: Any) -> bool:
    """Whether a value whose conversion recorded problems can still be read by checks.

    Only containers qualify: a list or mapping with no item missing, whose failed items
    are partial objects that guard their own failed fields.
    """
    if is_partial(value):
        return True
    if isinstance(value, list):
        return all(v is not None for v in value)
    if isinstance(value, dict):
        return all(v is not None for v in value.values())
    return False


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _is_secret(tp: Any) -> bool:
    if tp is Secret:
        return True
    return any(a is Secret for a in get_args(tp))


def _kind(value: Any) -> str:
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
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _describe(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return " or ".join(_describe(a) for a in get_args(tp) if a is not type(None))
    if origin is list:
        return f"a list of {_describe(get_args(tp)[0])}"
    if origin is dict:
        return "a mapping"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        Duration: "a duration",
        Secret: "a secret string",
        Path: "a path",
    }
    if tp in names:
        return names[tp]
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    return getattr(tp, "__name__", str(tp))
