"""A config section is a dataclass: how its fields are keyed in YAML, and the *partial*
object built from a section in which some fields failed.

A partial object lets the section's own `validate()`, its parent's and the checks that
span sections run in the same pass as the type checks, on what did parse: reading a
field that failed raises `Unavailable`, which aborts only the check that read it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, get_args, get_type_hints

from servicekit.values import Secret

_PARTIAL_ATTR = "_servicekit_unavailable"
_PARTIAL_CLASSES: dict[type, type] = {}


def key_name(field_name: str) -> str:
    """A field named after a Python keyword (`continue_`, `global_`) is written without
    the underscore in YAML."""
    return field_name[:-1] if field_name.endswith("_") else field_name


@functools.cache
def secret_file_keys(cls: type) -> Mapping[str, str]:
    """`<name>_file` key -> field name, for every field of `cls` that holds a secret.

    Cached per class: it is asked for every section instance structured and for every
    unknown-key message, and the answer depends on the class alone."""
    hints = get_type_hints(cls)
    secret = [n for n, tp in hints.items() if tp is Secret or Secret in get_args(tp)]
    return {f"{key_name(n)}_file": n for n in secret}


class Unavailable(BaseException):
    """Raised when `validate()` reads a field of a partial object that failed to parse.

    A BaseException so that a validate() catching `Exception` cannot swallow it.
    """


def is_partial(obj: Any) -> bool:
    """True for an object built from a section in which some fields failed."""
    return type(obj) in _PARTIAL_CLASSES.values()


def available(obj: Any, name: str) -> Any:
    """`obj.name`, or None when `obj` is partial and that field failed to parse (or `obj`
    is itself None, a section that failed as a whole)."""
    if obj is None:
        return None
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


def build_partial(cls: type, values: dict[str, Any], missing: set[str]) -> Any:
    """An instance of `cls` holding `values`, whose `missing` fields raise Unavailable."""
    obj: Any = object.__new__(_partial_class(cls))
    for name, value in values.items():
        object.__setattr__(obj, name, value)
    object.__setattr__(obj, _PARTIAL_ATTR, frozenset(missing))
    return obj
