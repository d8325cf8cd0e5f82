"""Validate plain YAML data into typed dataclasses, collecting every problem at once.

A problem names the file, the dotted key, what was expected and the value found, so
`--check-config` can print all of them in one go instead of stopping at the first. The
types are checked by cattrs (`servicekit.conversion`); each section's own `validate()`
then runs on what parsed, partial sections included (`servicekit.sections`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from servicekit.problems import ConfigError, Problem
from servicekit.sections import Unavailable, available, is_partial, key_name
from servicekit.yamlfile import read_yaml

if TYPE_CHECKING:
    from servicekit.conversion import StrictConverter

T = TypeVar("T")


class Loader:
    """Turns plain data into a dataclass tree, recording problems instead of raising."""

    def __init__(self, file: str, base_dir: Path | None = None) -> None:
        self.file = file
        self.base_dir = base_dir or (Path(file).parent if file else Path.cwd())
        self.problems: list[Problem] = []
        # Imported when a file is first read, not with this module: cattrs costs the
        # exporter about 1.6 MB of RSS, which a run without a config file need not pay.
        from servicekit.conversion import StrictConverter
        from servicekit.failures import FAILURES, problems

        self._converter: StrictConverter = StrictConverter(self.base_dir)
        self._failures = FAILURES
        self._worded = problems

    @classmethod
    def read(cls, path: str | Path) -> tuple[Loader, Any]:
        """A Loader for the YAML file at `path`, with the file's reading problems (duplicate
        keys, unset variables) recorded, and the file's data; raises ConfigError when the
        file could not be read or parsed at all."""
        data, problems = read_yaml(path)
        loader = cls(str(path))
        loader.problems.extend(problems)
        if data is None:
            raise ConfigError(
                loader.problems or [Problem(loader.file, "", "invalid configuration")]
            )
        return loader, data

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
        obj: Any
        try:
            obj = self._converter.structure(data, cls)
        except self._failures as exc:
            for sub, message in self._worded(exc, key):
                self.problem(sub, message)
            obj = self._converter.rebuild(cls, data)
            if obj is None:
                return None
        self._validate(obj, key)
        return cast(T, obj)

    def _validate(self, obj: Any, key: str) -> None:
        """Run `validate()` of every section in the tree, innermost first.

        On a partial object a validate() that reads a failed field is skipped."""
        if isinstance(obj, list):
            for i, item in enumerate(obj):
                self._validate(item, f"{key}[{i}]")
            return
        if isinstance(obj, dict):
            for k, item in obj.items():
                self._validate(item, f"{key}.{k}" if key else str(k))
            return
        if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
            return
        for f in dataclasses.fields(obj):
            name = key_name(f.name)
            self._validate(available(obj, f.name), f"{key}.{name}" if key else name)
        validate = getattr(obj, "validate", None)
        if not callable(validate):
            return
        try:
            found = list(validate())
        except Unavailable:
            return
        for sub_key, message in found:
            self.problem(f"{key}.{sub_key}" if key and sub_key else key or sub_key, message)
